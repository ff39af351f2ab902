"""Template pages: list with filters and empty state, create/edit with field errors, live preview, delete."""

import pytest
from django.urls import reverse

from rapport.messaging.models import MessageTemplate

pytestmark = pytest.mark.django_db

OTHER_ROLES = ["hiring_manager", "interviewer", "outsider"]

FORM = {
    "name": "Interview invite",
    "channel": "email",
    "category": "interview",
    "language": "en",
    "subject": "Interview for {{ job.title }}",
    "body": "Hi {{ candidate.first_name }},\n\nShall we meet?",
    "stage_template": "",
    "variant_rows": "1",
    "variant_0_language": "fr",
    "variant_0_subject": "Entretien",
    "variant_0_body": "Bonjour {{ candidate.first_name }}",
}


def test_an_empty_list_says_what_to_do_next(client, recruiter):
    client.force_login(recruiter)

    html = client.get(reverse("messaging:list")).content.decode()

    assert "No message templates yet" in html
    assert reverse("messaging:create") in html


def test_the_list_filters_by_channel_and_category(client, recruiter, make_template):
    make_template(name="Invite by email", category="interview")
    make_template(name="Reminder by text", channel="sms", category="interview", subject="")
    make_template(name="Kind rejection", category="rejection")
    client.force_login(recruiter)

    sms = client.get(reverse("messaging:list"), {"channel": "sms"}).content.decode()
    rejection = client.get(reverse("messaging:list"), {"category": "rejection"}).content.decode()
    nothing = client.get(reverse("messaging:list"), {"channel": "whatsapp"}).content.decode()

    assert "Reminder by text" in sms and "Invite by email" not in sms
    assert "Kind rejection" in rejection and "Reminder by text" not in rejection
    assert "No templates match these filters" in nothing


def test_the_navigation_links_templates_for_recruiters_only(client, recruiter, hiring_manager):
    client.force_login(recruiter)
    assert 'data-nav="templates"' in client.get("/").content.decode()

    client.force_login(hiring_manager)
    assert 'data-nav="templates"' not in client.get("/").content.decode()


def test_a_template_is_created_with_a_variant(client, recruiter):
    client.force_login(recruiter)

    response = client.post(reverse("messaging:create"), FORM)

    template = MessageTemplate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("messaging:edit", args=[template.pk])
    assert template.variants == [
        {"language": "fr", "subject": "Entretien", "body": "Bonjour {{ candidate.first_name }}"}
    ]


def test_an_unknown_field_is_shown_next_to_the_body_with_its_line(client, recruiter):
    client.force_login(recruiter)

    response = client.post(reverse("messaging:create"), {**FORM, "body": "Hi\n{{ candidate.frist_name }}"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="field-body"' in html
    body_field = html.split('id="field-body"')[1].split('id="field-language"')[0]
    assert "line 2: unknown field candidate.frist_name" in body_field
    assert not MessageTemplate.objects.exists()


def test_a_variant_error_is_shown_next_to_that_variant(client, recruiter):
    client.force_login(recruiter)

    response = client.post(reverse("messaging:create"), {**FORM, "variant_0_body": "{{ candidate.nom }}"})

    html = response.content.decode()
    assert "unknown field candidate.nom" in html.split('id="field-variant_0_body"')[1]


def test_adding_a_language_row_keeps_what_was_typed(client, recruiter):
    client.force_login(recruiter)

    response = client.post(reverse("messaging:create"), {**FORM, "action": "add_variant"})

    html = response.content.decode()
    assert 'name="variant_1_language"' in html
    assert "Shall we meet?" in html
    assert not MessageTemplate.objects.exists()


def test_editing_saves_and_sets_the_stage_suggestion(client, recruiter, make_template):
    from rapport.jobs.services import stage_templates_ensure

    template = make_template(name="Old name")
    interview = next(t for t in stage_templates_ensure() if t.name == "Interview")
    client.force_login(recruiter)

    page = client.get(reverse("messaging:edit", args=[template.pk])).content.decode()
    response = client.post(
        reverse("messaging:edit", args=[template.pk]), {**FORM, "name": "New name", "stage_template": interview.pk}
    )

    assert "Old name" in page
    assert response.status_code == 302
    template.refresh_from_db()
    interview.refresh_from_db()
    assert template.name == "New name"
    assert interview.default_template == template


def test_the_live_preview_renders_the_typed_text_for_the_chosen_person(client, world):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("messaging:preview"),
        {**FORM, "preview_candidate": world["applicant"].pk, "preview_job": world["job"].pk},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Interview for Platform Engineer" in html
    assert "Hi Grace," in html
    assert "<iframe" in html and "sandbox" in html


def test_the_preview_lists_problems_with_their_lines(client, world):
    client.force_login(world["recruiter"])

    response = client.post(
        reverse("messaging:preview"),
        {**FORM, "body": "Hi\n\n{{ job.titel }}", "preview_candidate": world["applicant"].pk},
    )

    assert "line 3: unknown field job.titel" in response.content.decode()


def test_the_preview_is_404_for_a_person_out_of_scope(client, world):
    from rapport.candidates.services import candidate_erase

    candidate_erase(actor=world["admin"], candidate=world["bystander"])
    client.force_login(world["recruiter"])

    response = client.post(reverse("messaging:preview"), {**FORM, "preview_candidate": world["bystander"].pk})

    assert response.status_code == 404


def test_delete_removes_the_template(client, recruiter, make_template):
    template = make_template()
    client.force_login(recruiter)

    response = client.post(reverse("messaging:delete", args=[template.pk]))

    assert response.status_code == 302
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_cannot_reach_the_template_pages(client, world, role, make_template):
    template = make_template()
    client.force_login(world[role])

    assert client.get(reverse("messaging:list")).status_code == 403
    assert client.get(reverse("messaging:create")).status_code == 403
    assert client.get(reverse("messaging:edit", args=[template.pk])).status_code == 404
    assert client.post(reverse("messaging:delete", args=[template.pk])).status_code == 404
    preview = client.post(reverse("messaging:preview"), {**FORM, "preview_candidate": world["applicant"].pk})
    assert preview.status_code == 403
    assert MessageTemplate.objects.filter(pk=template.pk).exists()


WHATSAPP_FORM = {
    "name": "Interview reminder",
    "channel": "whatsapp",
    "category": "interview",
    "body": "Hi {{ candidate.first_name }}, see you soon for {{ job.title }}.",
    "whatsapp_content_sid": "HX" + "0123456789abcdef" * 2,
    "whatsapp_variables": "1 = candidate.first_name\n2 = job.title",
}


def test_the_editor_saves_a_whatsapp_templates_approved_template(client, recruiter):
    client.force_login(recruiter)

    response = client.post(reverse("messaging:create"), WHATSAPP_FORM)

    template = MessageTemplate.objects.get()
    assert response.status_code == 302
    assert template.whatsapp_content_sid == WHATSAPP_FORM["whatsapp_content_sid"]
    assert template.whatsapp_variables == {"1": "candidate.first_name", "2": "job.title"}


def test_an_unknown_field_in_the_whatsapp_variables_is_shown_and_nothing_is_saved(client, recruiter):
    client.force_login(recruiter)

    response = client.post(
        reverse("messaging:create"), {**WHATSAPP_FORM, "whatsapp_variables": "1 = candidate.first_name\n2 = job.titel"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "job.titel" in html.split('id="field-whatsapp_variables"')[1]
    assert not MessageTemplate.objects.exists()
