"""The demo message templates: created once by `rapport seed --demo`, valid, and rendering for real people."""

from io import StringIO

from django.core.management import call_command

from rapport.jobs.models import StageTemplate
from rapport.messaging.models import MessageTemplate
from rapport.messaging.selectors import message_template_preview
from rapport.pipeline.models import Application


def test_the_demo_seed_creates_templates_once_and_they_render(db):
    call_command("seed", "--demo", "--candidates", "20", "--jobs", "2", stdout=StringIO())
    call_command("seed", "--demo", "--candidates", "0", "--jobs", "0", stdout=StringIO())

    templates = list(MessageTemplate.objects.all())
    assert len(templates) == 7
    assert {t.channel for t in templates} == {"email", "sms", "whatsapp"}
    assert any(v["language"] == "fr" for t in templates for v in t.variants)
    invite = MessageTemplate.objects.get(name="Interview invitation")
    assert StageTemplate.objects.get(name="Interview").default_template == invite
    application = Application.objects.select_related("candidate", "job").first()
    recruiter = invite.created_by
    for template in templates:
        rendered = message_template_preview(
            user=recruiter, template=template, candidate_id=application.candidate_id, job_id=application.job_id
        )
        assert rendered.text.strip()
