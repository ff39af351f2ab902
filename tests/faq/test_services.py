"""The FAQ assistant's writes: answering with a threshold, counting unanswered questions, the cached index, and
passing a question to a recruiter from the portal and from the career site."""

import pytest
from django.core.cache import cache

from rapport.candidates.models import Candidate
from rapport.common.errors import PermissionDenied, ValidationFailed
from rapport.faq.models import FaqEntry, UnansweredQuestion
from rapport.faq.selectors import faq_index, index_cache_key
from rapport.faq.services import (
    PASS_ON_SUBJECT,
    faq_ask,
    faq_entry_create,
    faq_entry_update,
    faq_pass_on_career_site,
    faq_pass_on_portal,
    unanswered_convert,
)
from rapport.messaging.models import Message
from rapport.timeline.models import Activity
from tests.factories import make_candidate, make_job


def test_a_covered_question_gets_its_entry(entries):
    answer = faq_ask(question="How long is the interview process?")
    assert answer.confident and answer.best.entry == entries["process"]
    assert not UnansweredQuestion.objects.exists()


def test_an_uncovered_question_is_not_answered_and_is_counted(entries):
    first = faq_ask(question="Is there parking for bicycles?")
    faq_ask(question="is there PARKING for bicycles")

    assert not first.confident and first.best is None
    item = UnansweredQuestion.objects.get()
    assert item.count == 2 and item.text == "is there PARKING for bicycles"
    assert item.last_asked_at >= item.first_asked_at


def test_drafts_and_other_jobs_entries_do_not_answer(recruiter, entries):
    job = make_job(actor=recruiter, title="SRE", department="Engineering")
    faq_entry_create(
        actor=recruiter,
        data={
            "question": "Is there an on-call rotation?",
            "answer": "Yes, one week in six.",
            "published": True,
            "job": job,
        },
    )
    faq_entry_create(actor=recruiter, data={"question": "Is there a dress code?", "answer": "No.", "published": False})

    assert not faq_ask(question="Is there a dress code?").confident
    assert not faq_ask(question="on-call rotation").confident
    assert faq_ask(question="on-call rotation", job_ids={job.pk}).confident


def test_the_index_is_cached_and_rebuilt_after_a_change(recruiter, entries, django_capture_on_commit_callbacks):
    faq_ask(question="Can I work remotely?")
    key = index_cache_key()
    assert cache.get(key) is not None

    with django_capture_on_commit_callbacks(execute=True):
        faq_entry_update(
            actor=recruiter,
            entry=entries["remote"],
            data={
                "question": "Can I bring my dog to the office?",
                "answer": "Yes, dogs are welcome.",
                "published": True,
            },
        )

    assert cache.get(key) is None
    assert faq_ask(question="bring my dog").best.entry == entries["remote"]
    assert not faq_ask(question="Can I work remotely?").confident
    assert faq_index().size == len(entries)


def test_an_entry_needs_an_answer_before_it_is_published(recruiter):
    with pytest.raises(ValidationFailed) as caught:
        faq_entry_create(actor=recruiter, data={"question": "Why?", "answer": "", "published": True})
    assert "answer" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        faq_ask(question="   ")
    assert "question" in caught.value.fields


def test_only_admins_and_recruiters_keep_the_faq(world):
    for role in ("hiring_manager", "interviewer", "outsider"):
        with pytest.raises(PermissionDenied):
            faq_entry_create(actor=world[role], data={"question": "Q?", "answer": "A."})
    assert not FaqEntry.objects.exists()


def test_an_unanswered_question_becomes_a_draft_entry(recruiter, entries):
    faq_ask(question="Do you pay for relocation?")
    item = UnansweredQuestion.objects.get()

    entry = unanswered_convert(actor=recruiter, item=item)

    assert entry.question == "Do you pay for relocation?" and not entry.published
    item.refresh_from_db()
    assert item.resolved_at is not None and item.entry == entry
    assert unanswered_convert(actor=recruiter, item=item) == entry  # a second click adds nothing
    assert FaqEntry.objects.filter(question=entry.question).count() == 1


def test_passing_on_from_the_portal_makes_an_inbound_message_on_the_thread(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])

    message = faq_pass_on_portal(candidate=grace, question="Can I bring my dog?")

    assert message.candidate == grace and message.direction == "inbound" and message.subject == PASS_ON_SUBJECT
    assert message.text.startswith("Can I bring my dog?") and message.from_address == "grace@example.org"
    assert Activity.objects.filter(type="message.received", candidate=grace).count() == 1


def test_passing_on_from_the_career_site_creates_a_lead_once(db):
    first = faq_pass_on_career_site(email="Ada@Example.org", first_name="Ada", question="Do you hire juniors?")
    second = faq_pass_on_career_site(email="ada@example.org", first_name="", question="And interns?")

    lead = Candidate.objects.get()
    assert lead.first_name == "Ada" and lead.relationship_status == "lead" and lead.source == "career site FAQ"
    assert first.candidate == lead and second.candidate == lead
    assert Message.objects.filter(candidate=lead, direction="inbound").count() == 2


def test_passing_on_from_the_career_site_reaches_an_existing_person(recruiter):
    grace = make_candidate(actor=recruiter, first_name="Grace", last_name="Hopper", emails=["grace@example.org"])
    message = faq_pass_on_career_site(email="grace@example.org", first_name="G", question="Any news?")
    assert message.candidate == grace and Candidate.objects.count() == 1


def test_a_bad_email_is_refused_and_nothing_is_written(db):
    with pytest.raises(ValidationFailed) as caught:
        faq_pass_on_career_site(email="not-an-email", first_name="", question="")
    assert set(caught.value.fields) == {"email", "question"}
    assert not Candidate.objects.exists() and not Message.objects.exists()
