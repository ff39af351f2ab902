"""Realistic demo and scale data, written in bulk but in exactly the shapes the services write.

A person gets a Candidate row, CandidateEmail/CandidatePhone rows, tags and pool memberships; an application gets
its StageTransition history; every change has its Activity with the payload the service would have written; the
search index gets the document `candidate_reindex` would have built. Only the per-row service calls are skipped:
the generator keeps everything in memory for a chunk of people and writes each table with one bulk statement.
"""

import datetime as dt
import json
import math
import random
import re
import time
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.candidates.models import (
    Candidate,
    CandidateEmail,
    CandidatePhone,
    Channel,
    RelationshipStatus,
    Segment,
    Tag,
    TalentPool,
)
from rapport.candidates.normalise import phone_search_tokens
from rapport.common.html import markdown_to_safe_html
from rapport.common.seeding import vocabulary as vocab
from rapport.common.seeding.writer import BulkWriter, Timestamps
from rapport.jobs.models import Client, EmploymentType, Job, JobStatus, Stage, StageCategory, WorkplaceType
from rapport.jobs.services import stage_templates_ensure
from rapport.pipeline.models import RejectionReason
from rapport.pipeline.services import rejection_reasons_ensure
from rapport.search import backends as search_backend
from rapport.search.query import normalise_text

DEMO_PASSWORD = "rapport-demo"
DEMO_USERS = [
    ("admin@rapport.demo", "Morgan Ellis", Role.ADMIN),
    ("recruiter@rapport.demo", "Priya Raman", Role.RECRUITER),
    ("manager@rapport.demo", "Daniel Weber", Role.HIRING_MANAGER),
    ("interviewer@rapport.demo", "Sofia Marquez", Role.INTERVIEWER),
]
# The rest of the demo team owns people and jobs; they cannot sign in (no password is set).
TEAM = [
    ("lena.hoffmann@rapport.demo", "Lena Hoffmann", Role.RECRUITER),
    ("marcus.chen@rapport.demo", "Marcus Chen", Role.RECRUITER),
    ("amara.okafor@rapport.demo", "Amara Okafor", Role.RECRUITER),
    ("tomas.novak@rapport.demo", "Tomás Novák", Role.RECRUITER),
    ("elena.rossi@rapport.demo", "Elena Rossi", Role.HIRING_MANAGER),
    ("kenji.watanabe@rapport.demo", "Kenji Watanabe", Role.HIRING_MANAGER),
    ("olivia.brown@rapport.demo", "Olivia Brown", Role.HIRING_MANAGER),
    ("rahul.mehta@rapport.demo", "Rahul Mehta", Role.HIRING_MANAGER),
    ("chloe.martin@rapport.demo", "Chloé Martin", Role.HIRING_MANAGER),
    ("jonas.berg@rapport.demo", "Jonas Berg", Role.HIRING_MANAGER),
    ("fatima.haddad@rapport.demo", "Fatima Haddad", Role.INTERVIEWER),
    ("lucas.silva@rapport.demo", "Lucas Silva", Role.INTERVIEWER),
    ("hannah.schmidt@rapport.demo", "Hannah Schmidt", Role.INTERVIEWER),
]
SEGMENTS = [
    ("Berlin Python engineers", "People in Berlin who know Python.", {"q": "python", "city": "Berlin"}),
    ("Nurturing in Germany", "People in Germany we keep warm.", {"status": "nurturing", "country": "DE"}),
]

DAY = 86400
WINDOW_DAYS = 548  # 18 months of history
CHUNK = 20_000
LARGE = 100_000  # from this many people on, bulk-load tricks pay for themselves
NOTES_INDEX_LIMIT = 20_000  # the same cut build_documents makes

# How likely an application moves on from a stage of each category, and how likely it is closed there.
ADVANCE = {"sourced": 0.35, "applied": 0.22, "screening": 0.40, "interview": 0.40, "offer": 0.60, "hired": 0.0}
REJECT = {"sourced": 0.42, "applied": 0.42, "screening": 0.42, "interview": 0.42, "offer": 0.20, "hired": 0.0}
WITHDRAW = 0.04
INBOUND_SOURCES = {"Career site", "Indeed", "Glassdoor", "LinkedIn", "Referral", "University", "Event"}

CANDIDATE_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "headline",
    "current_title",
    "current_company",
    "city",
    "region",
    "country",
    "timezone",
    "language",
    "skills",
    "links",
    "source",
    "relationship_status",
    "birthday",
    "preferred_channel",
    "custom_fields",
    "engagement_score",
    "created_at",
    "updated_at",
    "owner_id",
)
APPLICATION_COLUMNS = (
    "id",
    "source",
    "status",
    "rejection_note",
    "stage_entered_at",
    "created_at",
    "updated_at",
    "closed_at",
    "candidate_id",
    "job_id",
    "stage_id",
    "rejection_reason_id",
)
ACTIVITY_COLUMNS = ("type", "occurred_at", "payload", "actor_id", "application_id", "candidate_id", "job_id")
TRANSITION_COLUMNS = ("at", "actor_id", "application_id", "from_stage_id", "to_stage_id")
NOTE_COLUMNS = ("id", "kind", "body", "body_html", "created_at", "author_id", "candidate_id")
BULK_TABLES = (
    "candidates_candidate",
    "candidates_candidateemail",
    "candidates_candidatephone",
    "candidates_candidatetag",
    "candidates_poolmembership",
    "pipeline_application",
    "pipeline_stagetransition",
    "pipeline_application_interviewers",
    "timeline_activity",
    "timeline_note",
)


@dataclass
class SeedOptions:
    candidates: int = 2_000
    jobs: int = 30
    applications: int | None = None  # default: two per person
    events: int | None = None  # default: five per person (never fewer than the history itself needs)
    big_job_applications: int = 0  # one job with exactly this many applications (the kanban benchmark)
    heavy_candidate_events: int = 0  # one person with exactly this many timeline events (the profile benchmark)
    seed: int = 1
    demo_passwords: bool = False
    progress: Callable[[str], None] | None = None
    defer_indexes: bool | None = None  # None: when the load is large


@dataclass
class SeedResult:
    candidates: int = 0
    emails: int = 0
    phones: int = 0
    jobs: int = 0
    applications: int = 0
    transitions: int = 0
    events: int = 0
    notes: int = 0
    tags: int = 0
    pool_members: int = 0
    interviewer_assignments: int = 0
    big_job_id: int | None = None
    heavy_candidate_id: int | None = None
    seconds: float = 0.0
    first_candidate_id: int = 0
    last_candidate_id: int = 0


class Weighted:
    """Weighted choice by bisecting cumulative weights: the inner loop of the generator, so kept minimal."""

    __slots__ = ("items", "cum", "total", "last")

    def __init__(self, items: Sequence[Any], weights: Sequence[float]):
        self.items = list(items)
        self.cum: list[float] = []
        acc = 0.0
        for w in weights:
            acc += w
            self.cum.append(acc)
        self.total = acc
        self.last = len(self.items) - 1

    @classmethod
    def zipf(cls, items: Sequence[Any], exponent: float = 1.0) -> "Weighted":
        return cls(items, [1.0 / (rank**exponent) for rank in range(1, len(items) + 1)])

    def pick(self, rng: random.Random) -> Any:
        i = bisect_right(self.cum, rng.random() * self.total)
        return self.items[i if i <= self.last else self.last]

    def sample(self, rng: random.Random, k: int) -> list[Any]:
        """Up to k distinct items, more common ones more often."""
        k = min(k, len(self.items))
        chosen: dict[Any, None] = {}
        attempts = 0
        while len(chosen) < k and attempts < k * 8:
            chosen[self.pick(rng)] = None
            attempts += 1
        return list(chosen)


_ASCII_WORDS = re.compile(r"[a-z0-9]+")
_FOLD = str.maketrans({"ß": "ss", "ł": "l", "đ": "d", "ø": "o", "æ": "ae", "ı": "i", "œ": "oe", "þ": "th", "å": "a"})


def fast_normalise(text: str) -> str:
    """normalise_text, with a shortcut for ASCII text (where NFKD and accent stripping change nothing)."""
    if text.isascii():
        return " ".join(_ASCII_WORDS.findall(text.lower()))
    return normalise_text(text)


cached_normalise = lru_cache(maxsize=50_000)(fast_normalise)


@lru_cache(maxsize=10_000)
def ascii_fold(text: str) -> str:
    """'Łukasz Wiśniewski' → 'lukaszwisniewski': what people type in an email address."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


@dataclass
class _Stage:
    id: int
    name: str
    category: str


@dataclass(eq=False)
class _Job:
    id: int
    title: str
    family: str
    status: str
    open_ts: int
    end_ts: int
    recruiter_id: int
    manager_id: int | None
    stages: list[_Stage]
    applied_index: int
    weight: float = 0.0
    applied: int = 0  # applications generated so far


@dataclass
class _Chunk:
    candidates: list[tuple] = field(default_factory=list)
    emails: list[tuple] = field(default_factory=list)
    phones: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    pools: list[tuple] = field(default_factory=list)
    applications: list[tuple] = field(default_factory=list)
    transitions: list[tuple] = field(default_factory=list)
    interviewers: list[tuple] = field(default_factory=list)
    notes: list[tuple] = field(default_factory=list)
    activities: list[tuple] = field(default_factory=list)
    documents: list[tuple] = field(default_factory=list)


@dataclass
class _Person:
    """What the generator needs to know about one person while it writes their history."""

    id: int
    owner_id: int | None
    created: int
    family: str
    senior: bool
    junior: bool
    europe: bool
    events: list[tuple] = field(default_factory=list)  # (ts, order, type, actor, application, job, payload)
    applications: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, status, category)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (body, normalised body)
    row: list[Any] = field(default_factory=list)
    document: list[Any] = field(default_factory=list)


EUROPE = {"GB", "IE", "DE", "FR", "ES", "IT", "NL", "PL", "SE", "UA"}


def demo_users_ensure(*, with_passwords: bool) -> dict[str, User]:
    """The demo sign-ins and the rest of the demo team, created when missing; returns them by email."""
    users: dict[str, User] = {}
    for email, name, role in DEMO_USERS + TEAM:
        user = User.objects.filter(email=email).first()
        can_sign_in = with_passwords and (email, name, role) in DEMO_USERS
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD if can_sign_in else None,
                name=name,
                role=role,
                is_staff=role == Role.ADMIN,
                is_superuser=role == Role.ADMIN,
            )
        elif can_sign_in and not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[email] = user
    return users


class Generator:
    def __init__(self, options: SeedOptions):
        self.o = options
        self.rng = random.Random(options.seed)
        self.writer = BulkWriter()
        self.ts = Timestamps(self.writer.vendor)
        self.now = int(timezone.now().timestamp())
        self.start = self.now - WINDOW_DAYS * DAY
        self.result = SeedResult()
        self._say = options.progress or (lambda message: None)
        self._build_vocabulary()

    # ----- vocabulary -------------------------------------------------------------------------------------------

    def _build_vocabulary(self) -> None:
        self.countries = Weighted(vocab.COUNTRIES, [c.weight for c in vocab.COUNTRIES])
        self.country_cultures = {
            c.code: Weighted([k for k, _ in c.cultures], [w for _, w in c.cultures]) for c in vocab.COUNTRIES
        }
        self.all_cultures = Weighted(list(vocab.CULTURES), [1] * len(vocab.CULTURES))
        self.first_male = {k: Weighted.zipf(c.male, 0.7) for k, c in vocab.CULTURES.items()}
        self.first_female = {k: Weighted.zipf(c.female, 0.7) for k, c in vocab.CULTURES.items()}
        self.surnames = {k: Weighted.zipf(c.surnames, 1.0) for k, c in vocab.CULTURES.items()}
        self.cities = {c.code: Weighted.zipf(c.cities, 0.8) for c in vocab.COUNTRIES}
        self.families = Weighted(list(vocab.FAMILIES), [f["weight"] for f in vocab.FAMILIES.values()])
        self.family_titles = {k: Weighted.zipf(f["titles"], 0.8) for k, f in vocab.FAMILIES.items()}
        self.family_skills = {k: Weighted.zipf(f["skills"], 0.9) for k, f in vocab.FAMILIES.items()}
        self.general_skills = Weighted.zipf(vocab.GENERAL_SKILLS, 0.8)
        self.seniority = Weighted([s for s, _ in vocab.SENIORITY], [w for _, w in vocab.SENIORITY])
        companies = [f"{p} {s}" for p in vocab.COMPANY_PREFIXES for s in vocab.COMPANY_SUFFIXES]
        self.rng.shuffle(companies)
        self.companies = Weighted.zipf(companies, 0.6)
        self.sources = Weighted([s for s, _ in vocab.SOURCES], [w for _, w in vocab.SOURCES])
        self.global_domains = Weighted.zipf(vocab.GLOBAL_EMAIL_DOMAINS, 1.2)
        self.channels = Weighted(
            [Channel.EMAIL.value, Channel.PHONE.value, Channel.WHATSAPP.value, Channel.SMS.value], [75, 10, 10, 5]
        )
        self.note_pool = self._text_pool(vocab.NOTE_TEMPLATES, 400)
        self.call_pool = self._text_pool(vocab.CALL_TEMPLATES, 150)
        self.meeting_pool = self._text_pool(vocab.MEETING_TEMPLATES, 100)

    def _text_pool(self, templates: list[str], size: int) -> list[tuple[str, str, str]]:
        """(body, body_html, normalised body): a fixed pool, so Markdown is rendered once per distinct body."""
        rng = self.rng
        families = list(vocab.FAMILIES)
        pool = []
        for _ in range(size):
            family = rng.choice(families)
            skills = vocab.FAMILIES[family]["skills"]
            country = rng.choice(vocab.COUNTRIES)
            body = (
                rng.choice(templates)
                .replace("\\n", "\n")
                .format(
                    role=rng.choice(vocab.FAMILIES[family]["titles"]),
                    workplace=rng.choice(vocab.WORKPLACE),
                    notice=rng.choice(vocab.NOTICE),
                    skill=rng.choice(skills),
                    skill2=rng.choice(skills),
                    team=vocab.FAMILIES[family]["department"],
                    team2=vocab.FAMILIES[rng.choice(families)]["department"],
                    month=rng.choice(vocab.MONTHS),
                    company=self.companies.pick(rng),
                    salary=rng.randrange(40, 180, 5),
                    currency=rng.choice(["EUR", "USD", "GBP"]),
                    event=rng.choice(vocab.EVENTS),
                    city=rng.choice(country.cities).name,
                    channel=rng.choice(["email", "phone", "WhatsApp"]),
                )
            )
            pool.append((body, markdown_to_safe_html(body), fast_normalise(body)))
        return pool

    # ----- the organisation: team, stages, jobs, tags, pools ----------------------------------------------------

    def _organisation(self) -> None:
        users = demo_users_ensure(with_passwords=self.o.demo_passwords)
        stage_templates_ensure()
        rejection_reasons_ensure()
        self.users = users
        self.recruiter = users["recruiter@rapport.demo"]
        self.manager = users["manager@rapport.demo"]
        self.interviewer = users["interviewer@rapport.demo"]
        recruiters = [u for u in users.values() if u.role == Role.RECRUITER]
        recruiters.sort(key=lambda u: u.email != self.recruiter.email)  # the demo recruiter owns the most
        self.recruiters = Weighted.zipf([u.pk for u in recruiters], 0.8)
        # Most people have a recruiter as owner, a few the admin, and some nobody yet.
        zipf = [1 / (rank + 1) for rank in range(len(recruiters))]
        self.owner_choices = Weighted(
            [None, users["admin@rapport.demo"].pk, *[u.pk for u in recruiters]],
            [10, 3, *[87 * z / sum(zipf) for z in zipf]],
        )
        managers = [u.pk for u in users.values() if u.role == Role.HIRING_MANAGER]
        self.managers = Weighted(managers, [1] * len(managers))
        interviewers = [u.pk for u in users.values() if u.role == Role.INTERVIEWER]
        self.interviewers = Weighted(interviewers, [3 if pk == self.interviewer.pk else 1 for pk in interviewers])
        self.reasons = list(
            RejectionReason.objects.filter(is_active=True).order_by("position").values_list("id", "name")
        )
        self.filled_reason = next((r for r in self.reasons if "filled" in r[1].lower()), self.reasons[0])
        self.reason_choice = Weighted(self.reasons, [1.0 / (i + 1) ** 0.5 for i in range(len(self.reasons))])

        self.tags = []
        for name in vocab.TAGS:
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            self.tags.append((tag.pk, tag.name, cached_normalise(tag.name)))
        self.tag_choice = Weighted.zipf(self.tags, 0.9)
        self.pools = []
        for name, description in vocab.POOLS:
            pool = TalentPool.objects.filter(name__iexact=name).first() or TalentPool.objects.create(
                name=name, description=description, owner=self.recruiter
            )
            self.pools.append((pool.pk, pool.name))
        for name, description, filters in SEGMENTS:
            if not Segment.objects.filter(name__iexact=name).exists():
                Segment.objects.create(name=name, description=description, filters=filters, owner=self.recruiter)
        self._jobs()

    def _jobs(self) -> None:
        rng, o = self.rng, self.o
        templates = stage_templates_ensure()
        clients = [
            Client.objects.get_or_create(name=name, defaults={"website": f"https://{ascii_fold(name)}.example"})[0]
            for name in ("Helvetia Retail Group", "Atlas Mobility", "Coral Bay Hotels")
        ]
        specs = []
        for j in range(o.jobs):
            big = j == 0 and o.big_job_applications > 0
            family = "operations" if big else self.families.pick(rng)
            base = vocab.FAMILIES[family]["titles"][0] if big else self.family_titles[family].pick(rng)
            seniority = "" if big else rng.choice(["", "", "", "Senior ", "Senior ", "Lead ", "Junior "])
            country = self.countries.pick(rng)
            city = self.cities[country.code].pick(rng)
            workplace = rng.choices(
                [WorkplaceType.ONSITE, WorkplaceType.HYBRID, WorkplaceType.REMOTE], weights=[35, 45, 20]
            )[0]
            location = "Remote" if workplace == WorkplaceType.REMOTE else f"{city.name}, {country.code}"
            if big or 1 <= j <= 3:
                status = JobStatus.OPEN
            else:
                status = rng.choices(
                    [JobStatus.OPEN, JobStatus.ON_HOLD, JobStatus.CLOSED, JobStatus.FILLED, JobStatus.DRAFT],
                    weights=[55, 8, 15, 12, 10],
                )[0]
            if big:
                open_ts = self.now - 120 * DAY
            else:
                open_ts = self.start + int((self.now - self.start - 20 * DAY) * rng.random())
            end_ts = self.now
            if status in (JobStatus.CLOSED, JobStatus.FILLED):
                end_ts = min(self.now - DAY, open_ts + rng.randint(30, 150) * DAY)
            skills = vocab.FAMILIES[family]["skills"]
            department = vocab.FAMILIES[family]["department"]
            description = vocab.JOB_DESCRIPTION.format(
                title=f"{seniority}{base}",
                department=department,
                location=location if workplace != WorkplaceType.REMOTE else "a remote-first set-up",
                partner=rng.choice(["product and design", "our customers", "the leadership team", "sales"]),
                skill1=skills[0],
                skill2=rng.choice(skills[1:8]),
                skill3=rng.choice(skills[5:]),
                workplace=workplace.label.lower(),
            )
            manager_id = self.manager.pk if 1 <= j <= 3 else self.managers.pick(rng)
            specs.append(
                (
                    Job(
                        title=f"{seniority}{base}",
                        department=department,
                        location=location,
                        workplace_type=workplace,
                        employment_type=EmploymentType.INTERNSHIP
                        if seniority == "Junior " and rng.random() < 0.3
                        else rng.choices(
                            [EmploymentType.FULL_TIME, EmploymentType.CONTRACT, EmploymentType.PART_TIME],
                            weights=[85, 10, 5],
                        )[0],
                        description=description,
                        hiring_manager_id=manager_id,
                        recruiter_id=self.recruiters.pick(rng),
                        openings=rng.choice([1, 1, 1, 2, 3]),
                        client=rng.choice(clients) if rng.random() < 0.12 else None,
                        status=status,
                        opened_on=None if status == JobStatus.DRAFT else self._aware(open_ts).date(),
                        closed_on=self._aware(end_ts).date()
                        if status in (JobStatus.CLOSED, JobStatus.FILLED)
                        else None,
                        created_at=self._aware(open_ts - rng.randint(1, 14) * DAY),
                        updated_at=self._aware(end_ts if end_ts < self.now else open_ts),
                    ),
                    family,
                    open_ts,
                    end_ts,
                )
            )
        created = Job.objects.bulk_create([s[0] for s in specs], batch_size=500)
        Stage.objects.bulk_create(
            [
                Stage(job=job, name=t.name, position=t.position, category=t.category)
                for job in created
                for t in templates
            ],
            batch_size=1000,
        )
        stages_by_job: dict[int, list[_Stage]] = {}
        for sid, job_id, name, category in (
            Stage.objects.filter(job__in=created)
            .order_by("job_id", "position", "id")
            .values_list("id", "job_id", "name", "category")
        ):
            stages_by_job.setdefault(job_id, []).append(_Stage(sid, name, category))
        self.jobs: list[_Job] = []
        for job, (_, family, open_ts, end_ts) in zip(created, specs, strict=True):
            stages = stages_by_job[job.pk]
            applied = next((i for i, s in enumerate(stages) if s.category == StageCategory.APPLIED), 0)
            self.jobs.append(
                _Job(
                    job.pk,
                    job.title,
                    family,
                    job.status,
                    open_ts,
                    end_ts,
                    job.recruiter_id,
                    job.hiring_manager_id,
                    stages,
                    applied,
                )
            )
        self.result.jobs = len(self.jobs)
        self.big_job = self.jobs[0] if self.o.big_job_applications > 0 and self.jobs else None
        if self.big_job:
            self.result.big_job_id = self.big_job.id
        eligible = [j for j in self.jobs if j.status != JobStatus.DRAFT and j is not self.big_job and j.stages]
        for job in eligible:
            job.weight = max(1.0, (job.end_ts - job.open_ts) / DAY) * rng.lognormvariate(0, 0.6)
        self.open_jobs = eligible
        self.max_jobs_per_person = len(eligible)
        self.job_capacity = 0
        self._rebuild_job_choice()

    def _rebuild_job_choice(self) -> None:
        """Weighted choices over the jobs that still have room (a full job drops out)."""
        jobs = self.open_jobs
        self.job_choice = Weighted(jobs, [j.weight for j in jobs]) if jobs else None
        by_family: dict[str, list[_Job]] = {}
        for job in jobs:
            by_family.setdefault(job.family, []).append(job)
        self.family_jobs = {k: Weighted(v, [j.weight for j in v]) for k, v in by_family.items()}

    def _take_seat(self, job: _Job) -> None:
        job.applied += 1
        if self.job_capacity and job.applied >= self.job_capacity:
            self.open_jobs = [j for j in self.open_jobs if j is not job]
            self._rebuild_job_choice()

    def _aware(self, ts: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, tz=dt.UTC)

    # ----- people ------------------------------------------------------------------------------------------------

    def run(self) -> SeedResult:
        started = time.monotonic()
        o = self.o
        n = max(0, o.candidates)
        applications_target = o.applications if o.applications is not None else 2 * n
        if o.big_job_applications > n:
            raise ValueError("--big-job-applications cannot exceed --candidates")
        if o.jobs < 1 and applications_target:
            raise ValueError("Applications need at least one job")
        large = n >= LARGE
        defer = o.defer_indexes if o.defer_indexes is not None else large
        with self.writer.bulk_session(large=large):
            with transaction.atomic():
                self._organisation()
            self._people(n, applications_target, defer=defer)
        self.result.seconds = time.monotonic() - started
        return self.result

    def _people(self, n: int, applications_target: int, *, defer: bool) -> None:
        o, rng, w = self.o, self.rng, self.writer
        events_target = o.events if o.events is not None else 5 * n
        self.emails_taken = set(CandidateEmail.objects.values_list("email", flat=True))
        self.phones_taken = set(CandidatePhone.objects.values_list("phone", flat=True))
        self.phone_counter = rng.randrange(10**6)
        self.phone_rules: dict[str, tuple[int, str | None, int]] = {}
        self.phone_checks = 0
        first_id = w.next_id("candidates_candidate")
        self.next_application_id = w.next_id("pipeline_application")
        self.next_note_id = w.next_id("timeline_note")
        big_members = set(rng.sample(range(n), o.big_job_applications)) if self.big_job else set()
        # Not the last person: the last one absorbs rounding so the totals come out exact.
        heavy_index = rng.randrange(max(1, n - 1)) if o.heavy_candidate_events and n > 1 else -1
        self.result.first_candidate_id = first_id
        self.result.last_candidate_id = first_id + n - 1
        self._say(f"Seeding {n:,} people, {applications_target:,} applications, {events_target:,} events…")

        produced_apps = 0
        produced_events = 0  # everyone's but the heavy person's
        heavy_events = o.heavy_candidate_events if heavy_index >= 0 else 0
        ordinary_target = events_target - heavy_events
        per_app = applications_target / n if n else 0
        # No ordinary job outgrows the big one, and none takes a disproportionate share.
        ordinary_apps = applications_target - (o.big_job_applications if self.big_job else 0)
        mean = ordinary_apps / max(1, len(self.open_jobs))
        self.job_capacity = max(10, int(2.5 * mean) + 1)
        if self.big_job:
            below_big = max(2, o.big_job_applications - 1)
            if below_big * len(self.open_jobs) >= 1.5 * ordinary_apps:
                self.job_capacity = min(self.job_capacity, below_big)
        spread = [-2, -1, -1, 0, 0, 0, 1, 1, 2, 3] if per_app >= 1 else [0]
        loop_started = time.monotonic()

        with w.indexes_deferred(BULK_TABLES + self._index_table(), enabled=defer):
            for chunk_start in range(0, n, CHUNK):
                chunk = _Chunk()
                for i in range(chunk_start, min(n, chunk_start + CHUNK)):
                    last = i == n - 1
                    big = i in big_members
                    heavy = i == heavy_index
                    # Keep the running totals on course for the exact targets, with natural variation per person.
                    if last:
                        k = applications_target - produced_apps
                    else:
                        k = round(per_app * (i + 1)) - produced_apps + rng.choice(spread)
                    k = max(1 if big else 0, min(k, self.max_jobs_per_person + big))
                    if heavy:
                        k = max(k, min(6, self.max_jobs_per_person))
                    person = self._person(first_id + i, chunk, applications=k, big=big)
                    produced_apps += len(person.applications)
                    structural = len(person.events)
                    if heavy:
                        manual = max(0, heavy_events - structural)
                        self.result.heavy_candidate_id = person.id
                    elif last:
                        manual = max(0, ordinary_target - produced_events - structural)
                    else:
                        # Most people have no notes or calls; some have a handful. The deficit keeps the total exact.
                        # Running a little behind leaves the last person room to land exactly on the total.
                        deficit = (ordinary_target - 40) * (i + 1) / n - produced_events - structural
                        manual = 0
                        if deficit > 0 and rng.random() < min(1.0, deficit / 3):
                            manual = min(int(deficit) + 1, 1 + int(rng.expovariate(1 / 2.5)))
                    if manual:
                        self._manual_events(person, chunk, manual)
                    if not heavy:
                        produced_events += len(person.events)
                    self._finish_person(person, chunk)
                self._write(chunk)
                done = min(n, chunk_start + CHUNK)
                elapsed = time.monotonic() - loop_started
                self._say(
                    f"  people {done:,}/{n:,} · applications {self.result.applications:,} · "
                    f"events {self.result.events:,} · {elapsed:,.0f} s"
                )
            if defer:
                self._say("Building indexes…")
        w.reset_sequences(["candidates_candidate", "pipeline_application", "timeline_note"])
        self._say("Optimising the search index…")
        self._finish_index(large=n >= LARGE)

    def _index_table(self) -> tuple[str, ...]:
        return ("search_candidate_document",) if self.writer.vendor == "postgresql" else ()

    def _person(self, cid: int, chunk: _Chunk, *, applications: int, big: bool) -> _Person:
        rng, now = self.rng, self.now
        country = self.countries.pick(rng)
        culture_key = (
            self.country_cultures[country.code].pick(rng) if rng.random() < 0.9 else self.all_cultures.pick(rng)
        )
        culture = vocab.CULTURES[culture_key]
        female = rng.random() < 0.5
        first = (self.first_female if female else self.first_male)[culture_key].pick(rng)
        last = self.surnames[culture_key].pick(rng)
        if female:
            for masculine, feminine in culture.feminine_endings:
                if last.endswith(masculine):
                    last = last[: -len(masculine)] + feminine
                    break
        city = self.cities[country.code].pick(rng)
        family = self.families.pick(rng)
        seniority = self.seniority.pick(rng)
        base_title = self.family_titles[family].pick(rng)
        if rng.random() < 0.02:
            title = f"Head of {vocab.FAMILIES[family]['department']}"
            seniority = "Head "
        else:
            title = seniority + base_title
        company = self.companies.pick(rng) if rng.random() < 0.93 else ""
        skills = self.family_skills[family].sample(rng, rng.randint(3, 10))
        if rng.random() < 0.35:
            skills += [s for s in self.general_skills.sample(rng, rng.randint(1, 2)) if s not in skills]
        skills = skills[:12]
        source = self.sources.pick(rng)
        owner_id = self.owner_choices.pick(rng)

        # Applications first: a person's record starts before their first application.
        created = self.start + int((now - self.start) * math.sqrt(rng.random()))
        person = _Person(
            cid,
            owner_id,
            created,
            family,
            seniority in ("Senior ", "Lead ", "Staff ", "Principal ", "Head "),
            seniority == "Junior ",
            country.code in EUROPE,
        )
        chosen: list[_Job] = [self.big_job] if big and self.big_job else []
        wanted = applications
        attempts = 0
        while len(chosen) < wanted and attempts < wanted * 6 and self.job_choice is not None:
            attempts += 1
            pool = self.family_jobs.get(family) if rng.random() < 0.7 else None
            job = (pool or self.job_choice).pick(rng)
            if job not in chosen:
                chosen.append(job)
                self._take_seat(job)
        app_times = [job.open_ts + int((job.end_ts - job.open_ts - 3600) * rng.random()) for job in chosen]
        if app_times:
            first_app = min(app_times)
            if source == "Career site":
                created = first_app - rng.randint(5, 600)
            else:
                created = min(created, first_app - rng.randint(3600, 60 * DAY))
        person.created = created
        actor = None if source == "Career site" else owner_id
        full_name = f"{first} {last}"
        self._event(person, created, "candidate.created", actor, None, None, {"source": source, "name": full_name})
        for job, at in zip(chosen, app_times, strict=True):
            self._application(person, chunk, job, at, source)

        # Contact points.
        emails = self._emails(first, last, company, country)
        phones = self._phones(country, city) if rng.random() < 0.88 else []
        for position, email in enumerate(emails):
            chunk.emails.append((email, position, cid))
        for position, phone in enumerate(phones):
            chunk.phones.append((phone, position, cid))

        # Tags and pools, each with its event.
        tag_rows = []
        if rng.random() < 0.07:
            for tag in {self.tag_choice.pick(rng) for _ in range(rng.randint(1, 3))}:
                at = created + int((now - created) * rng.random())
                chunk.tags.append((self.ts(at), owner_id, cid, tag[0]))
                self._event(person, at, "tag.added", owner_id, None, None, {"tag": tag[1]})
                tag_rows.append(tag)
        for pool_id, pool_name in self._pools_for(person):
            at = created + int((now - created) * rng.random())
            reason = rng.choice(["", "", "Strong final interview", "Great fit for future openings", "Met at an event"])
            chunk.pools.append((reason, self.ts(at), owner_id or self.recruiter.pk, cid, pool_id))
            self._event(
                person,
                at,
                "pool.added",
                owner_id or self.recruiter.pk,
                None,
                None,
                {"pool_id": pool_id, "pool": pool_name, "reason": reason},
            )

        headline = self._headline(title, company, skills, family)
        links = []
        slug = f"{ascii_fold(first)}-{ascii_fold(last)}"
        if rng.random() < 0.45:
            links.append(f"https://www.linkedin.com/in/{slug}-{rng.randrange(16**4):04x}")
        if family in ("backend", "frontend", "mobile", "devops", "data", "qa") and rng.random() < 0.3:
            links.append(f"https://github.com/{ascii_fold(first)}{ascii_fold(last)[:1]}{rng.randrange(100)}")
        birthday = None
        if rng.random() < 0.6:
            age_days = rng.randint(21 * 365, 62 * 365)
            birthday = self.ts.date(now - age_days * DAY)
        person_row = [
            cid,
            first,
            last,
            headline,
            title,
            company,
            city.name,
            city.region,
            country.code,
            city.timezone,
            country.language,
            json.dumps(skills),
            json.dumps(links),
            source,
            None,  # relationship status, once the history is known
            birthday,
            self.channels.pick(rng),
            "{}",
            0,
            self.ts(created),
            None,  # updated_at, once the history is known
            owner_id,
        ]
        person.row = person_row
        contact = " ".join([*emails, *(token for p in phones for token in self._phone_tokens(p, country, city))])
        person.document = [
            cid,
            _join(cached_normalise(first), cached_normalise(last)),
            fast_normalise(contact),
            _join(
                fast_normalise(headline),
                cached_normalise(title),
                cached_normalise(company),
                cached_normalise(city.name),
                cached_normalise(city.region),
                country.code.lower(),
            ),
            _join(*(cached_normalise(s) for s in skills), *(t[2] for t in tag_rows)),
            "",
        ]
        return person

    def _pools_for(self, person: _Person) -> list[tuple[int, str]]:
        rng = self.rng
        out = []
        silver = any(
            status == "rejected" and category in ("interview", "offer") for _, status, category in person.applications
        )
        chances = [
            0.35 if silver else 0.0,
            0.05 if person.family == "frontend" else 0.0,
            0.05 if person.family == "data" else 0.0,
            0.12 if person.family == "sales" and person.senior and person.europe else 0.0,
            0.05 if person.junior else 0.0,
        ]
        for (pool_id, name), chance in zip(self.pools, chances, strict=False):
            if chance and rng.random() < chance:
                out.append((pool_id, name))
        return out

    def _headline(self, title: str, company: str, skills: list[str], family: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return ""
        if r < 0.5 and company:
            return f"{title} at {company}"
        if r < 0.72 and len(skills) >= 3:
            return f"{title} | {skills[0]}, {skills[1]}, {skills[2]}"
        if r < 0.82:
            return f"{title} with {rng.randint(2, 20)}+ years in {vocab.FAMILIES[family]['department']}"
        if r < 0.9 and company:
            return f"{title} at {company} | ex-{self.companies.pick(rng)}"
        return f"{skills[0]} and {skills[-1]} enthusiast" if skills else title

    def _emails(self, first: str, last: str, company: str, country: vocab.Country) -> list[str]:
        rng = self.rng
        f, l_ = ascii_fold(first) or "hello", ascii_fold(last) or "there"
        domain = (
            self.global_domains.pick(rng)
            if rng.random() < 0.65 or not country.email_domains
            else rng.choice(country.email_domains)
        )
        r = rng.random()
        if r < 0.35:
            local = f"{f}.{l_}"
        elif r < 0.45:
            local = f"{f}{l_}"
        elif r < 0.58:
            local = f"{f[0]}.{l_}"
        elif r < 0.65:
            local = f"{f[0]}{l_}"
        elif r < 0.7:
            local = f"{f}_{l_}"
        elif r < 0.85:
            local = f"{f}.{l_}{rng.randint(60, 99):02d}"
        elif r < 0.93:
            local = f"{f}{l_[0]}{rng.randint(1, 999)}"
        else:
            local = f"{l_}.{f}"
        emails = [self._unique_email(local, domain)]
        if company and rng.random() < 0.12:
            emails.append(self._unique_email(f"{f}.{l_}", f"{ascii_fold(company)}.example"))
        return emails

    def _unique_email(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        taken = self.emails_taken
        while email in taken:
            email = f"{local}{self.rng.randint(1, 99_999)}@{domain}"
        taken.add(email)
        return email

    def _phones(self, country: vocab.Country, city: vocab.City) -> list[str]:
        count = 1 if self.rng.random() < 0.94 else 2
        out = []
        while len(out) < count:
            self.phone_counter += 1
            modulus = 10**country.digits
            subscriber = (self.phone_counter * 7_777_777 + 1_234_567) % modulus
            phone = f"{country.dialling}{city.area}{subscriber:0{country.digits}d}"
            if phone not in self.phones_taken:
                self.phones_taken.add(phone)
                out.append(phone)
        return out

    def _phone_tokens(self, phone: str, country: vocab.Country, city: vocab.City) -> list[str]:
        """phone_search_tokens, learnt per number range: it parses with phonenumbers, ~40 µs a number.

        Numbers of one range (country code, area and the first subscriber digits) format alike, so after a few
        checked numbers the tokens follow from the digits alone. Every 5,000th number is checked again; a range
        that ever disagrees goes back to the real function for good.
        """
        key = phone[: len(country.dialling) + len(city.area) + 2]
        rule = self.phone_rules.get(key)
        self.phone_checks += 1
        if rule is None or rule[2] < 3 or self.phone_checks % 5_000 == 0:
            tokens = phone_search_tokens(phone)
            nsn = tokens[1] if len(tokens) > 1 else ""
            national = tokens[2] if len(tokens) > 2 else nsn
            trunk = national[: len(national) - len(nsn)] if nsn and national.endswith(nsn) else None
            derived = (len(tokens[0]) - len(nsn), trunk)
            if rule is not None and (derived != rule[:2] or rule[2] < 0):
                self.phone_rules[key] = (*derived, -1)  # unreliable: always ask phonenumbers
            elif nsn and trunk is not None:
                self.phone_rules[key] = (*derived, (rule[2] if rule else 0) + 1)
            return tokens
        code_length, trunk, _ = rule
        digits = phone[1:]
        nsn = digits[code_length:]
        return list(dict.fromkeys([digits, nsn, trunk + nsn]))

    def _event(
        self,
        person: _Person,
        at: int,
        kind: str,
        actor: int | None,
        application_id: int | None,
        job_id: int | None,
        payload: dict,
    ) -> None:
        person.events.append((at, len(person.events), kind, actor, application_id, job_id, payload))

    def _application(self, person: _Person, chunk: _Chunk, job: _Job, created: int, source: str) -> None:
        rng, now = self.rng, self.now
        app_id = self.next_application_id
        self.next_application_id += 1
        stages = job.stages
        inbound = source in INBOUND_SOURCES
        index = job.applied_index if inbound else 0
        limit = min(now, job.end_ts)
        recruiter = job.recruiter_id
        app_source = "Career site" if source == "Career site" else source
        actor = None if source == "Career site" else recruiter
        stage = stages[index]
        chunk.transitions.append((self.ts(created), actor, app_id, None, stage.id))
        self._event(
            person,
            created,
            "application.created",
            actor,
            app_id,
            job.id,
            {"job_id": job.id, "job": job.title, "stage_id": stage.id, "stage": stage.name, "source": app_source},
        )
        entered = created
        last_index = len(stages) - 1
        while index < last_index and stage.category != StageCategory.HIRED:
            if rng.random() >= ADVANCE.get(stage.category, 0.3):
                break
            at = entered + 1800 + int(rng.expovariate(1 / (6 * DAY)))
            if at >= limit:
                break
            previous = stage
            index += 1
            stage = stages[index]
            mover = job.manager_id if stage.category == StageCategory.OFFER and job.manager_id else recruiter
            chunk.transitions.append((self.ts(at), mover, app_id, previous.id, stage.id))
            self._event(
                person,
                at,
                "application.stage_changed",
                mover,
                app_id,
                job.id,
                {
                    "from_stage_id": previous.id,
                    "from_stage": previous.name,
                    "to_stage_id": stage.id,
                    "to_stage": stage.name,
                    "job_id": job.id,
                    "days_in_previous_stage": (at - entered) // DAY,
                },
            )
            entered = at
        status, closed, reason, note = "active", None, None, ""
        if stage.category == StageCategory.HIRED:
            status, closed = "hired", entered
            self._event(person, entered, "application.hired", recruiter, app_id, job.id, {"job_id": job.id})
        else:
            close_at = entered + 3600 + int(rng.expovariate(1 / (8 * DAY)))
            r = rng.random()
            if job.end_ts < now and close_at >= job.end_ts:
                # The job closed while this person was still in the pipeline.
                status, closed, reason = "rejected", max(entered + 60, job.end_ts), self.filled_reason
            elif close_at < now and r < REJECT.get(stage.category, 0.3):
                status, closed, reason = "rejected", close_at, self.reason_choice.pick(rng)
                if rng.random() < 0.2:
                    note = rng.choice(vocab.REJECTION_NOTES)
            elif close_at < now and r < REJECT.get(stage.category, 0.3) + WITHDRAW:
                status, closed = "withdrawn", close_at
            if status == "active" and job.end_ts < now:
                # Nobody stays in the pipeline of a job that has closed.
                status, closed, reason = "rejected", max(entered + 60, job.end_ts), self.filled_reason
            if status == "rejected":
                self._event(
                    person,
                    closed,
                    "application.rejected",
                    recruiter,
                    app_id,
                    job.id,
                    {
                        "job_id": job.id,
                        "stage": stage.name,
                        "reason_id": reason[0],
                        "reason": reason[1],
                        "note": note[:500],
                        "notify": rng.random() < 0.6,
                    },
                )
            elif status == "withdrawn":
                self._event(
                    person,
                    closed,
                    "application.withdrawn",
                    actor or recruiter,
                    app_id,
                    job.id,
                    {"job_id": job.id, "stage": stage.name, "note": ""},
                )
        if status == "active" and stage.category in (StageCategory.INTERVIEW, StageCategory.OFFER):
            chunk.interviewers.append((app_id, self.interviewers.pick(rng)))
        updated = closed or entered
        chunk.applications.append(
            (
                app_id,
                app_source,
                status,
                note,
                self.ts(entered),
                self.ts(created),
                self.ts(updated),
                self.ts(closed) if closed else None,
                person.id,
                job.id,
                stage.id,
                reason[0] if reason else None,
            )
        )
        person.applications.append((updated, status, stage.category))

    def _manual_events(self, person: _Person, chunk: _Chunk, count: int) -> None:
        rng, now = self.rng, self.now
        created = person.created
        kinds = rng.choices(["note", "call", "meeting", "updated"], weights=[45, 27, 10, 18], k=count)
        for kind in kinds:
            at = created + 60 + int((now - created - 60) * rng.random())
            author = person.owner_id or self.recruiters.pick(rng)
            if kind == "updated":
                fields = rng.choice(
                    [
                        ["current_title"],
                        ["phones"],
                        ["skills"],
                        ["relationship_status"],
                        ["owner_id"],
                        ["headline", "current_company"],
                    ]
                )
                self._event(person, at, "candidate.updated", author, None, None, {"fields": fields})
                continue
            pool = self.note_pool if kind == "note" else self.call_pool if kind == "call" else self.meeting_pool
            body, html, normalised = pool[rng.randrange(len(pool))]
            note_id = self.next_note_id
            self.next_note_id += 1
            chunk.notes.append((note_id, kind, body, html, self.ts(at), author, person.id))
            person.notes.append((body, normalised))
            payload: dict[str, Any] = {"note_id": note_id, "body": body[:500]}
            if kind == "call":
                payload |= {
                    "duration_minutes": rng.choice([5, 10, 15, 20, 30]),
                    "outcome": rng.choice(vocab.CALL_OUTCOMES),
                }
            elif kind == "meeting":
                payload |= {"duration_minutes": rng.choice([30, 45, 60])}
            event_type = {"note": "note.added", "call": "call.logged", "meeting": "meeting.logged"}[kind]
            self._event(person, at, event_type, author, None, None, payload)

    def _finish_person(self, person: _Person, chunk: _Chunk) -> None:
        rng, now = self.rng, self.now
        events = sorted(person.events)
        last_at = events[-1][0] if events else person.created
        statuses = [status for _, status, _ in person.applications]
        hired = [at for at, status, _ in person.applications if status == "hired"]
        if hired:
            relationship = RelationshipStatus.HIRED if now - max(hired) < 365 * DAY else RelationshipStatus.ALUMNI
        elif "active" in statuses:
            relationship = RelationshipStatus.APPLICANT
        elif statuses:
            relationship = rng.choices(
                [RelationshipStatus.NURTURING, RelationshipStatus.ENGAGED, RelationshipStatus.CONTACTED],
                weights=[60, 25, 15],
            )[0]
        else:
            relationship = rng.choices(
                [
                    RelationshipStatus.LEAD,
                    RelationshipStatus.CONTACTED,
                    RelationshipStatus.ENGAGED,
                    RelationshipStatus.NURTURING,
                ],
                weights=[45, 25, 15, 15],
            )[0]
        if rng.random() < 0.015:
            relationship = RelationshipStatus.DO_NOT_CONTACT
        score_range = {
            RelationshipStatus.LEAD: (0, 20),
            RelationshipStatus.CONTACTED: (10, 40),
            RelationshipStatus.ENGAGED: (40, 90),
            RelationshipStatus.NURTURING: (20, 60),
            RelationshipStatus.APPLICANT: (30, 80),
            RelationshipStatus.HIRED: (50, 100),
            RelationshipStatus.ALUMNI: (10, 50),
            RelationshipStatus.DO_NOT_CONTACT: (0, 0),
        }[relationship]
        row = person.row
        row[14] = relationship.value
        row[18] = min(100, rng.randint(*score_range) + min(20, len(person.notes)))
        row[20] = self.ts(max(last_at, person.created))
        chunk.candidates.append(tuple(row))
        ts = self.ts
        dumps = json.dumps
        pid = person.id
        for at, _, kind, actor, application_id, job_id, payload in events:
            chunk.activities.append((kind, ts(at), dumps(payload), actor, application_id, pid, job_id))
        notes = person.notes
        document = person.document
        if notes:
            raw = " ".join(body for body, _ in notes)
            document[5] = (
                fast_normalise(raw[:NOTES_INDEX_LIMIT])
                if len(raw) > NOTES_INDEX_LIMIT
                else _join(*(normalised for _, normalised in notes))
            )
        chunk.documents.append(tuple(document))

    # ----- writing -----------------------------------------------------------------------------------------------

    def _write(self, chunk: _Chunk) -> None:
        w, r = self.writer, self.result
        with transaction.atomic():
            w.insert("candidates_candidate", CANDIDATE_COLUMNS, chunk.candidates)
            w.insert("candidates_candidateemail", ("email", "position", "candidate_id"), chunk.emails)
            w.insert("candidates_candidatephone", ("phone", "position", "candidate_id"), chunk.phones)
            w.insert("candidates_candidatetag", ("added_at", "added_by_id", "candidate_id", "tag_id"), chunk.tags)
            w.insert(
                "candidates_poolmembership",
                ("reason", "added_at", "added_by_id", "candidate_id", "pool_id"),
                chunk.pools,
            )
            w.insert("pipeline_application", APPLICATION_COLUMNS, chunk.applications)
            w.insert("pipeline_stagetransition", TRANSITION_COLUMNS, chunk.transitions)
            w.insert("pipeline_application_interviewers", ("application_id", "user_id"), chunk.interviewers)
            w.insert("timeline_note", NOTE_COLUMNS, chunk.notes)
            w.insert("timeline_activity", ACTIVITY_COLUMNS, chunk.activities)
            self._index(chunk.documents)
        r.candidates += len(chunk.candidates)
        r.emails += len(chunk.emails)
        r.phones += len(chunk.phones)
        r.tags += len(chunk.tags)
        r.pool_members += len(chunk.pools)
        r.applications += len(chunk.applications)
        r.transitions += len(chunk.transitions)
        r.interviewer_assignments += len(chunk.interviewers)
        r.notes += len(chunk.notes)
        r.events += len(chunk.activities)

    def _index(self, documents: list[tuple]) -> None:
        """The rows index_documents would write, from text normalised exactly as normalise_text does."""
        w = self.writer
        if w.vendor == "sqlite":
            # The facet words from the candidate rows written just before, as index_documents does.
            connection.connection.executemany(
                "INSERT INTO search_candidate_fts (rowid, name, contact, work, skills, notes, facets) "
                f"SELECT ?, ?, ?, ?, ?, ?, ({search_backend.SQLITE_FACETS} FROM candidates_candidate c WHERE c.id = ?)",
                [(*document, document[0]) for document in documents],
            )
            return
        w.execute(
            "CREATE TEMP TABLE IF NOT EXISTS seed_search_staging "
            "(candidate_id bigint, name text, contact text, work text, skills text, notes text)"
        )
        w.insert("seed_search_staging", ("candidate_id", "name", "contact", "work", "skills", "notes"), documents)
        # The same weights as index_documents: name and contact A, work and skills B, notes D. The facet words are
        # added here too: a large load runs with triggers off (session_replication_role), and the trigger that
        # would add them (search migration 0002) does not fire then. Where it does fire it writes the same words.
        w.execute(
            "INSERT INTO search_candidate_document (candidate_id, document) SELECT s.candidate_id, "
            "setweight(to_tsvector('simple', s.name), 'A') || setweight(to_tsvector('simple', s.contact), 'A') || "
            "setweight(to_tsvector('simple', s.work), 'B') || setweight(to_tsvector('simple', s.skills), 'B') || "
            "setweight(to_tsvector('simple', s.notes), 'D') || "
            "search_candidate_facets(c.country, c.relationship_status) "
            "FROM seed_search_staging s JOIN candidates_candidate c ON c.id = s.candidate_id"
        )
        w.execute("TRUNCATE seed_search_staging")

    def _finish_index(self, *, large: bool) -> None:
        search_backend.optimise_index()
        if not large or connection.in_atomic_block:
            return
        if self.writer.vendor == "sqlite":
            self.writer.execute("ANALYZE")
        else:
            for table in (*BULK_TABLES, "search_candidate_document", "jobs_job", "jobs_stage"):
                self.writer.execute(f"VACUUM ANALYZE {table}")


def seed(options: SeedOptions) -> SeedResult:
    """Generate people, jobs and their history; see SeedOptions for the knobs."""
    result = Generator(options).run()
    _timeline_consumers_start_now()
    return result


def _timeline_consumers_start_now() -> None:
    """The generated history is the past: automation and notifications react to what happens from now on.

    Without this, the first worker pass would read years of made-up rejections and hires as if they had just
    happened, and write to every demo person at once.
    """
    from django.db.models import Max

    from rapport.automation.engine import TIMELINE_CONSUMERS
    from rapport.notifications.models import TimelineCursor
    from rapport.timeline.models import Activity

    newest = Activity.objects.aggregate(newest=Max("id"))["newest"] or 0
    for name in TIMELINE_CONSUMERS:
        TimelineCursor.objects.update_or_create(name=name, defaults={"last_id": newest})


def has_people() -> bool:
    return Candidate.objects.exists()
