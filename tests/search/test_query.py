"""The search syntax: what users type becomes one tree, which each engine's query language expresses the same way."""

import pytest

from rapport.common.errors import ValidationFailed
from rapport.search.query import And, Not, Or, Term, normalise_text, normalise_words, parse, to_fts5, to_tsquery


@pytest.mark.parametrize(
    "text, words",
    [
        ("José Núñez", ["jose", "nunez"]),
        ("  Grace   HOPPER ", ["grace", "hopper"]),
        ("grace@example.org", ["grace", "example", "org"]),
        ("C++/snake_case, Zoë!", ["c", "snake", "case", "zoe"]),
        ("Łódź Straße", ["łodz", "straße"]),
        ("", []),
    ],
)
def test_words_are_lower_cased_and_stripped_of_accents_and_punctuation(text, words):
    assert normalise_words(text) == words
    assert normalise_text(text) == " ".join(words)


@pytest.mark.parametrize(
    "query, tree",
    [
        ("hopper", Term(("hopper",))),
        ("Grace Hopper", And((Term(("grace",)), Term(("hopper",))))),
        ("grace AND hopper", And((Term(("grace",)), Term(("hopper",))))),
        ("grace & hopper", And((Term(("grace",)), Term(("hopper",))))),
        ("cobol OR java", Or((Term(("cobol",)), Term(("java",))))),
        ("cobol | java", Or((Term(("cobol",)), Term(("java",))))),
        ("python NOT django", And((Term(("python",)), Not(Term(("django",)))))),
        ("python -django", And((Term(("python",)), Not(Term(("django",)))))),
        ('"rear admiral"', Term(("rear", "admiral"))),
        ('"rear admiral', Term(("rear", "admiral"))),
        ("kowa*", Term(("kowa",), prefix=True)),
        ("Jośe*", Term(("jose",), prefix=True)),
        ("foo-bar", Term(("foo", "bar"))),
        ("grace@example.org", Term(("grace", "example", "org"))),
        (
            "(cobol OR java) python",
            And((Or((Term(("cobol",)), Term(("java",)))), Term(("python",)))),
        ),
        ("a (-b -c)", And((Term(("a",)), Not(Term(("b",))), Not(Term(("c",)))))),
        ("a OR b c", Or((Term(("a",)), And((Term(("b",)), Term(("c",))))))),
        ("-b a", And((Not(Term(("b",))), Term(("a",))))),
        ("or and not", And((Term(("or",)), Term(("and",)), Term(("not",))))),
    ],
)
def test_parse(query, tree):
    assert parse(query) == tree


@pytest.mark.parametrize("query", ["", "   ", "()", "***", '""', "OR", "AND", "NOT", "-", "a OR"[2:]])
def test_nothing_to_look_for_parses_to_none(query):
    assert parse(query) is None


def test_a_trailing_operator_is_forgiven():
    assert parse("python OR") == Term(("python",))
    assert parse("python AND") == Term(("python",))
    assert parse("python NOT") == Term(("python",))


@pytest.mark.parametrize(
    "query, hint",
    [
        ("(python", "not closed"),
        ("((a) b", "not closed"),
        ("python)", "without a matching"),
        (")", "without a matching"),
        ("-only", "only exclusions"),
        ("NOT python", "only exclusions"),
        ("python OR -java", "only exclusions"),
        ("(-b -c)", "only exclusions"),
        ("x NOT NOT y", "only exclusions"),
        ("x -(y OR -z)", "only exclusions"),
        ("x" * 501, "too long"),
    ],
)
def test_bad_syntax_is_refused_with_a_message_naming_q(query, hint):
    with pytest.raises(ValidationFailed) as caught:
        parse(query)

    assert list(caught.value.fields) == ["q"]
    assert hint in caught.value.fields["q"][0]


@pytest.mark.parametrize(
    "query, fts5, tsquery",
    [
        ("hopper", '"hopper"', "'hopper'"),
        ("kowa*", '"kowa"*', "'kowa':*"),
        ('"rear admiral"', '"rear admiral"', "('rear' <-> 'admiral')"),
        ("foo-ba*", '"foo ba"*', "('foo' <-> 'ba':*)"),
        ("cobol OR java", '("cobol" OR "java")', "('cobol' | 'java')"),
        ("python -django", '(("python") NOT "django")', "('python' & !'django')"),
        (
            "(cobol OR java) python -x -y",
            '(((("cobol" OR "java") AND "python") NOT "x") NOT "y")',
            "(('cobol' | 'java') & 'python' & !'x' & !'y')",
        ),
        ("a -(b c)", '(("a") NOT ("b" AND "c"))', "('a' & !('b' & 'c'))"),
    ],
)
def test_both_engines_get_the_same_tree(query, fts5, tsquery):
    node = parse(query)

    assert to_fts5(node) == fts5
    assert to_tsquery(node) == tsquery


@pytest.mark.parametrize("query", ['"; DROP TABLE x; --', "it's", "a:b & c | !d", "\\' OR 1=1", "NEAR(a b)"])
def test_engine_syntax_in_a_query_is_only_ever_words(query):
    node = parse(query)

    for term in _terms(node):
        assert all(word.isalnum() for word in term.words)


def _terms(node):
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Not):
        yield from _terms(node.node)
    else:
        for child in node.nodes:
            yield from _terms(child)
