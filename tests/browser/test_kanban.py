"""The job board in a real browser: drag a card, move one from the keyboard, reject one through the dialog."""

import re

import pytest
from playwright.sync_api import expect

from rapport.messaging.models import Message
from rapport.messaging.services import message_template_create
from rapport.pipeline.models import Application, ApplicationStatus, RejectionReason
from rapport.pipeline.services import application_create, rejection_reasons_ensure
from tests.factories import make_candidate, make_job

pytestmark = pytest.mark.browser


@pytest.fixture
def board(recruiter):
    rejection_reasons_ensure()
    job = make_job(actor=recruiter, title="Platform Engineer")
    names = [("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Edsger", "Dijkstra")]
    applications = [
        application_create(
            actor=recruiter,
            candidate=make_candidate(
                actor=recruiter, first_name=first, last_name=last, emails=[f"{first.lower()}@example.org"]
            ),
            job=job,
        )
        for first, last in names
    ]
    stages = list(job.stages.order_by("position"))
    message_template_create(
        actor=recruiter,
        data={
            "name": "Kind rejection",
            "category": "rejection",
            "subject": "Your application for {{ job.title }}",
            "body": "Dear {{ candidate.first_name }}, thank you for your time.",
        },
    )
    return {"job": job, "applications": applications, "stages": stages}


def _column(page, stage):
    return page.locator(f'[data-column][data-stage-id="{stage.pk}"]')


def _card(page, application):
    return page.locator(f'[data-card][data-id="{application.pk}"]')


def test_moving_and_rejecting_on_the_kanban(signed_in_page, board):
    page = signed_in_page
    job, (ada, grace, alan, _edsger) = board["job"], board["applications"]
    sourced, applied, screening = board["stages"][:3]
    page.goto(f"/jobs/{job.pk}/")
    expect(_column(page, sourced).locator("[data-count]")).to_have_text("4")

    # Drag Ada from Sourced to Applied.
    _card(page, ada).drag_to(_column(page, applied).locator("[data-cards]"), steps=12)

    expect(_column(page, applied).locator("[data-count]")).to_have_text("1")
    expect(_column(page, sourced).locator("[data-count]")).to_have_text("3")
    expect(page.locator("[data-toast]").filter(has_text="Moved Ada Lovelace to Applied.")).to_be_visible()
    ada.refresh_from_db()
    assert ada.stage == applied
    page.reload()
    expect(_column(page, applied).locator(f'[data-card][data-id="{ada.pk}"]')).to_be_visible()

    # Grace goes two stages on with "]", then one back with "[", from the keyboard alone.
    _card(page, grace).focus()
    page.keyboard.press("]")
    expect(_column(page, applied).locator("[data-count]")).to_have_text("2")
    page.keyboard.press("]")
    expect(_column(page, screening).locator("[data-count]")).to_have_text("1")
    expect(_column(page, applied).locator("[data-count]")).to_have_text("1")
    expect(_card(page, grace)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(_column(page, applied).locator(f'[data-card][data-id="{grace.pk}"]')).to_be_visible()
    expect(_column(page, applied).locator("[data-count]")).to_have_text("2")
    grace.refresh_from_db()
    assert grace.stage == applied
    assert list(grace.transitions.values_list("to_stage__name", flat=True)) == [
        "Sourced",
        "Applied",
        "Screening",
        "Applied",
    ]

    # Reject Alan through the card menu ("m") and the dialog: first without a reason, then properly.
    _card(page, alan).focus()
    page.keyboard.press("m")
    menu = page.locator("#card-menu")
    expect(menu).to_be_visible()
    menu.get_by_role("button", name="Reject…").click()
    dialog = page.locator("#reject-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Reject Alan Turing")
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog.locator('[data-error-for="reason"]')).to_have_text("Choose why this application is rejected.")
    alan.refresh_from_db()
    assert alan.status == ApplicationStatus.ACTIVE

    reason = RejectionReason.objects.get(name="Skills do not match the role")
    dialog.get_by_label("Reason").select_option(label=reason.name)
    dialog.get_by_label("Note").fill("Great person, different stack.")
    dialog.get_by_label("Email the candidate").check()
    dialog.get_by_label("Email", exact=True).select_option(label="Kind rejection")
    dialog.get_by_role("button", name="Reject").click()

    expect(dialog).to_be_hidden()
    expect(_card(page, alan)).to_have_count(0)
    expect(_column(page, sourced).locator("[data-count]")).to_have_text("1")
    expect(page.locator("[data-toast]").filter(has_text="Rejected Alan Turing.")).to_be_visible()
    alan.refresh_from_db()
    assert (alan.status, alan.rejection_reason, alan.rejection_note) == (
        ApplicationStatus.REJECTED,
        reason,
        "Great person, different stack.",
    )
    assert Message.objects.get(application=alan).subject == "Your application for Platform Engineer"

    # The rejected application comes back, marked, when closed ones are shown.
    page.get_by_role("link", name="With rejected & withdrawn").click()
    expect(page).to_have_url(re.compile(r"\?closed=1$"))
    expect(_card(page, alan).locator("[data-status-badge]")).to_have_text("Rejected")


def test_a_refused_move_puts_the_card_back(signed_in_page, board):
    page = signed_in_page
    job, ada = board["job"], board["applications"][0]
    sourced, applied = board["stages"][:2]
    page.goto(f"/jobs/{job.pk}/")
    # Someone else rejects Ada after the board was loaded.
    Application.objects.filter(pk=ada.pk).update(status=ApplicationStatus.REJECTED)

    _card(page, ada).drag_to(_column(page, applied).locator("[data-cards]"), steps=12)

    expect(page.locator("[data-toast]").filter(has_text="reopen it before moving it")).to_be_visible()
    expect(_column(page, sourced).locator(f'[data-card][data-id="{ada.pk}"]')).to_be_visible()
    expect(_column(page, applied).locator("[data-card]")).to_have_count(0)
    ada.refresh_from_db()
    assert ada.stage == sourced


def test_adding_a_person_from_the_picker_puts_them_on_the_board(signed_in_page, board, recruiter):
    page = signed_in_page
    make_candidate(actor=recruiter, first_name="Barbara", last_name="Liskov", emails=["barbara@example.org"])
    page.goto(f"/jobs/{board['job'].pk}/")

    page.get_by_role("button", name="Add people").click()
    page.get_by_label("Find people by name, email, title or skill").fill("liskov")
    results = page.locator("#people-results")
    expect(results.get_by_text("Barbara Liskov")).to_be_visible()
    results.get_by_role("button", name="Add").click()

    expect(results.get_by_text("Added to Sourced")).to_be_visible()
    expect(_column(page, board["stages"][0]).locator("[data-card]").filter(has_text="Barbara Liskov")).to_be_visible()
    expect(_column(page, board["stages"][0]).locator("[data-count]")).to_have_text("5")
