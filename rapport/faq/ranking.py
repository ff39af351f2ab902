"""BM25 ranking over the FAQ, written out here rather than borrowed from the search engines.

Why not the candidate search index: it holds people, and its FTS5 / tsvector ranking differs per database. The FAQ
is small (tens to hundreds of entries), so an in-memory index built in Python, cached, and scored per question is
both fast and the same on SQLite and PostgreSQL.

Scoring is BM25 (k1 = 1.2, b = 0.75) per field, with the question field weighted twice the answer:
a visitor's question usually paraphrases an entry's question, while answers are longer and mention many things.

Confidence. Raw BM25 depends on the query length and the corpus, so it cannot be compared with a fixed threshold.
We divide it by a reference score: what the query would score against an entry holding each query word once in
both fields at average length (each field then scores idf(t) for it, so the reference is
Σ idf(t) × (question weight + answer weight); idf counts entries containing the word in any field, as BM25F does). Words the FAQ never uses still count in the reference with the largest idf, so a question about
something the FAQ does not cover gets a low confidence even when one common word matches. The ratio is capped
at 1. `CONFIDENCE_THRESHOLD` = 0.35 means: the matching words must carry about a third of the query's weight.
Matching every word of a question in an entry's question alone gives 2/3; matching them only in an answer
gives 1/3, which is just below the threshold (one extra mention or a shorter answer lifts it above); a single
shared common word among several unknown ones stays far below.
"""

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"question": 2.0, "answer": 1.0}
CONFIDENCE_THRESHOLD = 0.35

_STOP_WORDS_TEXT = """
a about after all also am an and any are as at be been before being but by can could did do does doing for
from had has have having he her here hers him his how i if in into is it its just me my no nor not of on or
our ours out over she should so some such than that the their them then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your yours
yourself please hi hello thanks thank many much get need want know tell like
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Tried in this order; the first that fits comes off, and only when a stem of 3+ letters remains.
_SUFFIXES = (
    ("ational", "ate"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("iveness", "ive"),
    ("fulness", "ful"),
    ("ments", ""),
    ("ment", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ed", ""),
    ("ly", ""),
)
# Suffixes that need a longer stem to come off safely ("remotely" -> "remote", but "apply" stays).
_MIN_STEM = {"ly": 5}
_ES_AFTER = ("s", "x", "z", "ch", "sh")
_WORD = re.compile(r"[a-z0-9]+")


def _plural(word: str) -> str:
    if word.endswith("es") and word[:-2].endswith(_ES_AFTER) and len(word) > 4:
        return word[:-2]  # boxes, processes, matches
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]  # dates, interviews (not process, status, analysis)
    return word


def stem(word: str) -> str:
    """A light suffix stripper (not Porter): enough that "interviews", "interviewing" and "interview" meet."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM.get(suffix, 3):
            word = word[: -len(suffix)] + replacement
            # "planned" -> "plann" -> "plan": fold the doubled consonant the suffix left behind.
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeioulsz":
                word = word[:-1]
            return word
    return _plural(word)


def tokenize(text: str) -> list[str]:
    """Lower-cased, accents and punctuation stripped, stop words dropped, stemmed."""
    flat = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return [stem(word) for word in _WORD.findall(flat) if word not in STOP_WORDS]


@dataclass
class Document:
    id: int
    job_id: int | None
    department: str
    fields: dict[str, Counter]
    lengths: dict[str, int]


@dataclass
class Index:
    documents: list[Document] = field(default_factory=list)
    # How many documents contain each term in any field (one idf per term, as in BM25F), and per-field lengths.
    df: Counter = field(default_factory=Counter)
    avg_length: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.documents)


def build_index(entries: list[dict[str, Any]]) -> Index:
    """`entries`: dicts with id, question, answer (plain text), job_id and department."""
    index = Index()
    totals = dict.fromkeys(FIELD_WEIGHTS, 0)
    for entry in entries:
        fields, lengths = {}, {}
        for name in FIELD_WEIGHTS:
            tokens = tokenize(entry.get(name) or "")
            fields[name] = Counter(tokens)
            lengths[name] = len(tokens)
            totals[name] += len(tokens)
        index.df.update(set().union(*(counts.keys() for counts in fields.values())))
        index.documents.append(
            Document(
                id=entry["id"],
                job_id=entry.get("job_id"),
                department=(entry.get("department") or "").strip().lower(),
                fields=fields,
                lengths=lengths,
            )
        )
    for name in FIELD_WEIGHTS:
        index.avg_length[name] = (totals[name] / index.size) if index.size else 0.0
    return index


def idf(index: Index, term: str) -> float:
    """Lucene's non-negative BM25 idf: log(1 + (N − n + 0.5) / (n + 0.5)), n counting documents, not fields."""
    n = index.df.get(term, 0)
    return math.log(1 + (index.size - n + 0.5) / (n + 0.5))


def _field_score(index: Index, doc: Document, name: str, terms: list[str]) -> float:
    avg = index.avg_length[name] or 1.0
    norm = K1 * (1 - B + B * doc.lengths[name] / avg)
    score = 0.0
    for term in terms:
        tf = doc.fields[name].get(term, 0)
        if tf:
            score += idf(index, term) * tf * (K1 + 1) / (tf + norm)
    return score


def reference_score(index: Index, terms: list[str]) -> float:
    return sum(FIELD_WEIGHTS.values()) * sum(idf(index, term) for term in terms)


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    confidence: float


def rank(
    index: Index, query: str, *, job_ids: set[int] | None = None, departments: set[str] | None = None
) -> list[Hit]:
    """Entries in scope that share a word with the query, best first, with their normalised confidence.

    In scope: entries with no job and no department, plus those for one of `job_ids` or `departments`.
    """
    terms = list(dict.fromkeys(tokenize(query)))
    if not terms or not index.size:
        return []
    job_ids = job_ids or set()
    departments = {d.strip().lower() for d in departments or set() if d.strip()}
    reference = reference_score(index, terms) or 1.0
    hits = []
    for doc in index.documents:
        scoped = doc.job_id is not None or doc.department
        if scoped and doc.job_id not in job_ids and doc.department not in departments:
            continue
        score = sum(weight * _field_score(index, doc, name, terms) for name, weight in FIELD_WEIGHTS.items())
        if score > 0:
            hits.append(Hit(id=doc.id, score=score, confidence=min(1.0, score / reference)))
    hits.sort(key=lambda hit: (-hit.score, hit.id))
    return hits
