"""The base fixture set: one user per role plus an outsider, for the permission tests and everything else."""

import factory.random
import pytest

from rapport.accounts.models import Role
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests create many users and only need hashing to be correct, not costly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _repeatable_fake_data():
    """Faker's names differ per run unless seeded; a name that happens to match a search term must fail every time."""
    factory.random.reseed_random("rapport-tests")


@pytest.fixture
def admin_user(db):
    return UserFactory(
        email="admin@rapport.test", name="Avery Admin", role=Role.ADMIN, is_staff=True, is_superuser=True
    )


@pytest.fixture
def recruiter(db):
    return UserFactory(email="recruiter@rapport.test", name="Riley Recruiter", role=Role.RECRUITER)


@pytest.fixture
def hiring_manager(db):
    return UserFactory(email="manager@rapport.test", name="Harper Manager", role=Role.HIRING_MANAGER)


@pytest.fixture
def interviewer(db):
    return UserFactory(email="interviewer@rapport.test", name="Indy Interviewer", role=Role.INTERVIEWER)


@pytest.fixture
def outsider(db):
    """Signed in, but with nothing in scope: a hiring manager of no job we create and assigned to no one."""
    return UserFactory(email="outsider@rapport.test", name="Olly Outsider", role=Role.HIRING_MANAGER)


@pytest.fixture
def all_users(admin_user, recruiter, hiring_manager, interviewer, outsider):
    return {
        "admin": admin_user,
        "recruiter": recruiter,
        "hiring_manager": hiring_manager,
        "interviewer": interviewer,
        "outsider": outsider,
    }


@pytest.fixture
def world(all_users):
    """A job managed by `hiring_manager`, with one applicant that `interviewer` is assigned to, and one bystander."""
    from rapport.pipeline.services import application_create
    from tests.factories import make_candidate, make_job

    recruiter = all_users["recruiter"]
    job = make_job(actor=recruiter, title="Platform Engineer", hiring_manager_id=all_users["hiring_manager"].pk)
    applicant = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    bystander = make_candidate(actor=recruiter, first_name="Alan", last_name="Turing", emails=["alan@example.org"])
    application = application_create(actor=recruiter, candidate=applicant, job=job)
    application.interviewers.add(all_users["interviewer"])
    return {
        "job": job,
        "applicant": applicant,
        "bystander": bystander,
        "application": application,
        **all_users,
    }
