"""A small search syntax shared by both engines: words, "phrases", prefix*, OR, AND, NOT / -word, (groups).

Text is normalised the same way when indexed and when queried, so SQLite FTS5 and PostgreSQL see the same
plain lower-case words and return the same hits.
"""

import re
import unicodedata
from dataclasses import dataclass

from rapport.common.errors import ValidationFailed

_WORD_SPLIT = re.compile(r"[^\w]+", re.UNICODE)
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"?|(-)(?=\S)|([^\s()"]+))')


def normalise_words(text: str) -> list[str]:
    """Lower-case, strip accents, split on anything that is not a letter or digit."""
    text = text or ""
    if text.isascii():
        # Nothing to decompose: skipping the per-character pass makes bulk indexing (imports, seeding) faster.
        stripped = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return [w for w in _WORD_SPLIT.split(stripped.replace("_", " ")) if w]


def normalise_text(text: str) -> str:
    return " ".join(normalise_words(text))


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # more than one word is a phrase
    prefix: bool = False


@dataclass(frozen=True)
class Not:
    node: "Node"


@dataclass(frozen=True)
class And:
    nodes: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple["Node", ...]


Node = Term | Not | And | Or


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed.single("q", message)


def _lex(query: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            break
        pos = match.end()
        lparen, rparen, phrase, minus, word = match.groups()
        if lparen:
            tokens.append(("(", lparen))
        elif rparen:
            tokens.append((")", rparen))
        elif phrase is not None:
            tokens.append(("phrase", phrase))
        elif minus:
            tokens.append(("NOT", "-"))
        elif word:
            if word in ("OR", "|"):
                tokens.append(("OR", word))
            elif word in ("AND", "&"):
                tokens.append(("AND", word))
            elif word == "NOT":
                tokens.append(("NOT", word))
            else:
                tokens.append(("word", word))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def parse_or(self) -> Node | None:
        nodes = [n for n in [self.parse_and()] if n is not None]
        while self.peek() == "OR":
            self.take()
            right = self.parse_and()
            if right is not None:
                nodes.append(right)
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def parse_and(self) -> Node | None:
        nodes: list[Node] = []
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
                continue
            node = self.parse_unary()
            if isinstance(node, And):
                # "a (-b -c)" means "a -b -c": flattening lets the exclusions attach to the words beside them.
                nodes.extend(node.nodes)
            elif node is not None:
                nodes.append(node)
        if not nodes:
            return None
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def parse_unary(self) -> Node | None:
        kind, value = self.take()
        if kind == "NOT":
            if self.peek() in (None, "OR", ")"):
                return None
            inner = self.parse_unary()
            return Not(inner) if inner is not None else None
        if kind == "(":
            inner = self.parse_or()
            if self.peek() != ")":
                raise _invalid("A bracket is not closed: add the missing ')'.")
            self.take()
            return inner
        if kind == ")":
            raise _invalid("There is a ')' without a matching '('.")
        prefix = kind == "word" and value.endswith("*")
        words = tuple(normalise_words(value))
        if not words:
            return None
        return Term(words=words, prefix=prefix)


def _positive(node: Node) -> bool:
    """Whether an index can answer a node: exclusions only narrow words found beside them, at every level.

    Both engines must agree, and FTS5 cannot express "everything except", so PostgreSQL is held to the same rule.
    """
    if isinstance(node, Term):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        positives = [n for n in node.nodes if not isinstance(n, Not)]
        excluded = [n.node for n in node.nodes if isinstance(n, Not)]
        return bool(positives) and all(_positive(n) for n in [*positives, *excluded])
    return all(_positive(n) for n in node.nodes)


MAX_NESTING = 20


def _check_nesting(tokens: list[tuple[str, str]]) -> None:
    # The parser recurses once per bracket (and per NOT); deep nesting would exhaust Python's stack.
    depth = negations = 0
    for kind, _ in tokens:
        if kind == "(":
            depth += 1
        elif kind == ")":
            depth = max(0, depth - 1)
        negations = negations + 1 if kind == "NOT" else 0
        if depth > MAX_NESTING or negations > MAX_NESTING:
            raise _invalid(f"The search nests too deeply: use at most {MAX_NESTING} brackets or NOTs in a row.")


def parse(query: str) -> Node | None:
    """Parse a user's query; None means there is nothing to search for."""
    if len(query) > 500:
        raise _invalid("The search is too long: use at most 500 characters.")
    tokens = _lex(query)
    if not tokens:
        return None
    _check_nesting(tokens)
    parser = _Parser(tokens)
    node = parser.parse_or()
    if parser.i < len(tokens):
        raise _invalid("There is a ')' without a matching '('.")
    if node is not None and not _positive(node):
        raise _invalid("Add at least one word to look for; a search cannot be only exclusions.")
    return node


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(term.words) + '"'
    return quoted + ("*" if term.prefix else "")


def to_fts5(node: Node) -> str:
    if isinstance(node, Term):
        return _fts5_term(node)
    if isinstance(node, Or):
        return "(" + " OR ".join(to_fts5(n) for n in node.nodes) + ")"
    if isinstance(node, And):
        positives = [to_fts5(n) for n in node.nodes if not isinstance(n, Not)]
        negatives = [to_fts5(n.node) for n in node.nodes if isinstance(n, Not)]
        expr = "(" + " AND ".join(positives) + ")"
        for negative in negatives:
            expr = f"({expr} NOT {negative})"
        return expr
    raise _invalid("Add at least one word to look for; a search cannot be only exclusions.")


def _tsquery_term(term: Term) -> str:
    # Words are already reduced to [a-z0-9_] and letters, so quoting them is enough for to_tsquery.
    parts = [f"'{w}'" for w in term.words]
    if term.prefix:
        parts[-1] += ":*"
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


def to_tsquery(node: Node) -> str:
    if isinstance(node, Term):
        return _tsquery_term(node)
    if isinstance(node, Not):
        return "!" + to_tsquery(node.node)
    if isinstance(node, Or):
        return "(" + " | ".join(to_tsquery(n) for n in node.nodes) + ")"
    return "(" + " & ".join(to_tsquery(n) for n in node.nodes) + ")"
