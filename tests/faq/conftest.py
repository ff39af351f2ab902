import pytest
from django.core.cache import cache

from rapport.faq.services import faq_entry_create


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The index and the rate-limit counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def entries(recruiter):
    """A small knowledge base, as a recruiter would write it."""

    def add(question, answer, **extra):
        return faq_entry_create(
            actor=recruiter, data={"question": question, "answer": answer, "published": True, **extra}
        )

    return {
        "process": add(
            "How long does the interview process take?",
            "Usually **three weeks**: a phone screen, a technical interview and a final conversation.",
        ),
        "remote": add("Can I work remotely?", "Most roles are hybrid; some are fully remote. Each job says which."),
        "salary": add("Do you publish salary ranges?", "Yes, every job posting shows its salary range."),
        "visa": add("Do you sponsor visas?", "We sponsor work visas for engineering roles in Berlin."),
        "benefits": add("What benefits do you offer?", "Health insurance, 30 days of holiday and a learning budget."),
    }
