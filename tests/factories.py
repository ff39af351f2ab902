import factory
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.candidates.models import Candidate, CandidateEmail, TalentPool
from rapport.jobs.models import Job, JobStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@rapport.test")
    name = factory.Faker("name")
    role = Role.RECRUITER
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def make_candidate(*, actor=None, **data) -> Candidate:
    """Create a person through the real service, so tests see what users see (timeline, index, audit)."""
    from rapport.candidates.services import candidate_create

    data.setdefault("first_name", "Ada")
    data.setdefault("last_name", "Lovelace")
    return candidate_create(actor=actor, data=data, check_permission=False)


class CandidateFactory(factory.django.DjangoModelFactory):
    """A bare row, for tests that need many people and no side effects; prefer make_candidate otherwise."""

    class Meta:
        model = Candidate

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    created_at = factory.LazyFunction(timezone.now)


class CandidateEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CandidateEmail

    candidate = factory.SubFactory(CandidateFactory)
    email = factory.Sequence(lambda n: f"person{n}@example.org")


def make_job(*, actor, **data) -> Job:
    from rapport.jobs.services import job_create

    data.setdefault("title", "Backend Engineer")
    data.setdefault("status", JobStatus.OPEN)
    return job_create(actor=actor, data=data)


class TalentPoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TalentPool

    name = factory.Sequence(lambda n: f"Pool {n}")
