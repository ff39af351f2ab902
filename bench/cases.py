"""What the benchmark measures: the code paths users hit, and the naive approach on the same data."""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from bench.timing import Measurement, measure

SEARCH_TARGET_MS = 50.0
PROFILE_TARGET_MS = 100.0
KANBAN_TARGET_MS = 150.0
IMPORT_TARGET_ROWS_PER_S = 5_000.0
NAIVE_FIELDS = (
    "first_name",
    "last_name",
    "emails__email",
    "phones__phone",
    "current_title",
    "current_company",
    "headline",
    "city",  # without it "python django berlin" finds no one naively, and the comparison would be unfair
    "skills",
    "notes__body",
)


@dataclass
class Settings:
    runs: int
    warmups: int
    naive_budget: float
    import_rows: int


@dataclass(frozen=True)
class SearchCase:
    name: str
    filters: dict[str, str]


def search_cases(*, email: str) -> list[SearchCase]:
    return [
        SearchCase("surname", {"q": "kowalski"}),
        SearchCase("email", {"q": email}),
        SearchCase("skill", {"q": "django"}),
        SearchCase("several words", {"q": "python django berlin"}),
        SearchCase("boolean", {"q": "(react OR vue) typescript -junior"}),
        SearchCase("text + 2 filters", {"q": "kubernetes", "country": "DE", "status": "nurturing"}),
        SearchCase("name prefix", {"q": "kowa*"}),
    ]


def describe(filters: dict[str, str]) -> str:
    extra = ", ".join(f"{k}={v}" for k, v in filters.items() if k != "q")
    return f"`{filters.get('q', '')}`" + (f" + {extra}" if extra else "")


def run_search(case: SearchCase, user: Any, settings: Settings) -> Measurement:
    from rapport.candidates.selectors import candidate_list

    measurement = Measurement("search", case.name, describe(case.filters))
    last: dict[str, Any] = {}

    def action() -> None:
        page = candidate_list(user=user, filters=dict(case.filters), limit=50)
        last.update(hits=page.total, capped=page.total_is_capped, ranked=page.ranked, returned=len(page.items))

    measure(measurement, action, runs=settings.runs, warmups=settings.warmups)
    measurement.info.update(last)
    return measurement


# ----- the naive approach ------------------------------------------------------------------------------------------


def _naive_term(text: str) -> Any:
    from django.db.models import Q

    return reduce(operator.or_, (Q(**{f"{field}__icontains": text}) for field in NAIVE_FIELDS))


def _naive_q(node: Any) -> Any:
    from rapport.search.query import And, Not, Or, Term

    if isinstance(node, Term):
        return _naive_term(" ".join(node.words))
    if isinstance(node, Not):
        return ~_naive_q(node.node)
    if isinstance(node, And):
        return reduce(operator.and_, (_naive_q(n) for n in node.nodes))
    if isinstance(node, Or):
        return reduce(operator.or_, (_naive_q(n) for n in node.nodes))
    raise TypeError(node)


def naive_search(filters: dict[str, str]) -> tuple[list[Any], int]:
    """What a first version would do: icontains OR-ed over every text field and relation, newest first."""
    from rapport.candidates.models import Candidate
    from rapport.candidates.normalise import looks_like_email, looks_like_phone
    from rapport.search.query import parse

    text = filters["q"]
    contact = looks_like_email(text) or looks_like_phone(text)
    condition = _naive_term(text.strip()) if contact else _naive_q(parse(text))
    qs = Candidate.objects.filter(erased_at__isnull=True).filter(condition)
    if "country" in filters:
        qs = qs.filter(country=filters["country"])
    if "status" in filters:
        qs = qs.filter(relationship_status=filters["status"])
    qs = qs.distinct()
    page = list(qs.order_by("-id")[:50])
    return page, qs.count()


def run_naive(case: SearchCase, settings: Settings) -> Measurement:
    measurement = Measurement("naive", case.name, describe(case.filters))
    last: dict[str, Any] = {}

    def action() -> None:
        page, total = naive_search(case.filters)
        last.update(hits=total, returned=len(page))

    measure(
        measurement,
        action,
        runs=settings.runs,
        warmups=min(1, settings.warmups),
        budget_seconds=settings.naive_budget,
    )
    measurement.info.update(last)
    return measurement


# ----- pages and the API -------------------------------------------------------------------------------------------


def run_page(
    group: str, name: str, path: str, settings: Settings, *, client: Any, headers: dict[str, str] | None = None
) -> Measurement:
    from django.urls import Resolver404, resolve

    measurement = Measurement(group, name, path)
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        measurement.status = "not measured"
        measurement.note = "this page does not exist yet"
        return measurement
    sizes: list[int] = []

    def action() -> None:
        response = client.get(path, headers=headers or {})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        sizes.append(len(response.content))

    measure(measurement, action, runs=settings.runs, warmups=settings.warmups)
    if sizes:
        measurement.info["bytes"] = sizes[-1]
    return measurement


def api_token(user: Any) -> tuple[str, Callable[[], None]]:
    """A throw-away personal token for the API cases, and how to delete it afterwards."""
    from rapport.accounts.models import ApiToken, hash_token

    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(user=user, name="benchmark", prefix=raw[:12], token_hash=hash_token(raw))
    return raw, lambda: ApiToken.objects.filter(pk=token.pk).delete()


# ----- CSV import --------------------------------------------------------------------------------------------------


def _remove_imported() -> int:
    """Take the benchmark's imported people out again, so every run measures the same database."""
    from rapport.candidates.models import Candidate, CandidateEmail, ImportJob
    from rapport.search import backends as search_backend

    ids = list(
        CandidateEmail.objects.filter(email__endswith="@bench.example.org").values_list("candidate_id", flat=True)
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        search_backend.remove_documents(chunk)
        Candidate.objects.filter(pk__in=chunk).delete()
    ImportJob.objects.filter(original_name="bench.csv").delete()
    return len(ids)


TIDIED_TABLES = (
    "candidates_candidate",
    "candidates_candidateemail",
    "candidates_candidatephone",
    "candidates_candidatetag",
    "timeline_activity",
    "search_candidate_document",
    "messaging_message",
)


def tidy_database() -> None:
    """PostgreSQL: clear what earlier runs' imports left behind (dead rows, stale GIN entries) before measuring.

    Each import run adds 20,000 people and removes them again. Until a vacuum, their dead index entries are still
    read: "django" then went from 54k to 129k bitmap entries and from 30 to 100 ms.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in TIDIED_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def run_import(settings: Settings) -> list[Measurement]:
    try:
        from rapport.candidates import importing
    except ImportError:
        importing = None
    ours = Measurement("import", "CSV import", f"{settings.import_rows:,} rows, dedupe on (1 in 50 repeats)")
    naive = Measurement("import", "row by row (candidate_create)", "2,000 rows")
    if importing is None or not hasattr(importing, "bench_import"):
        ours.status = naive.status = "not measured"
        ours.note = naive.note = "rapport.candidates.importing.bench_import does not exist yet"
        return [ours, naive]
    rates: list[float] = []
    _remove_imported()
    try:
        for _ in range(3):
            rates.append(importing.bench_import(settings.import_rows))
            _remove_imported()
        ours.info["rows_per_s"] = [round(r) for r in rates]
        ours.samples_ms = [settings.import_rows / r * 1000 for r in rates]
    except Exception as exc:  # noqa: BLE001
        ours.status, ours.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
    if hasattr(importing, "bench_import_naive"):
        try:
            rate = importing.bench_import_naive(2_000)
            naive.info["rows_per_s"] = [round(rate)]
            naive.samples_ms = [2_000 / rate * 1000]
        except Exception as exc:  # noqa: BLE001
            naive.status, naive.note = "failed", f"{type(exc).__name__}: {exc}"[:300]
        finally:
            _remove_imported()
    else:
        naive.status, naive.note = "not measured", "no bench_import_naive"
    tidy_database()
    return [ours, naive]
