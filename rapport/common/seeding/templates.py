"""Demo message templates, so a new installation shows what templates look like (only with `rapport seed --demo`)."""

from rapport.accounts.models import User
from rapport.messaging.models import MessageTemplate
from rapport.messaging.services import message_template_create

DEMO_TEMPLATES = [
    {
        "name": "Outreach: a role that fits",
        "channel": "email",
        "category": "outreach",
        "language": "en",
        "subject": "{{ candidate.first_name }}, a {{ job.title if job else 'new' }} role at {{ company.name }}",
        "body": (
            "Hi {{ candidate.first_name }},\n\n"
            "{% if candidate.current_company %}Your work at {{ candidate.current_company }} caught my eye"
            "{% else %}Your profile caught my eye{% endif %}, and I think you would enjoy what we are building"
            "{% if job %}: we are hiring a **{{ job.title }}**{% if job.location %} in {{ job.location }}{% endif %}"
            "{% endif %}.\n\n"
            "Would you be open to a 20-minute call next week?\n\n"
            "Best,\n{{ recruiter.first_name }}"
        ),
        "variants": [
            {
                "language": "fr",
                "subject": "{{ candidate.first_name }}, un poste chez {{ company.name }}",
                "body": (
                    "Bonjour {{ candidate.first_name }},\n\n"
                    "Votre parcours a retenu mon attention{% if job %} pour notre poste de "
                    "**{{ job.title }}**{% endif %}.\n\n"
                    "Seriez-vous disponible pour un échange de 20 minutes la semaine prochaine ?\n\n"
                    "Bien à vous,\n{{ recruiter.first_name }}"
                ),
            }
        ],
    },
    {
        "name": "Interview invitation",
        "channel": "email",
        "category": "interview",
        "language": "en",
        "subject": "Interview for {{ job.title }} at {{ company.name }}",
        "body": (
            "Hi {{ candidate.first_name }},\n\n"
            "Thank you for your time so far. We would love to invite you to an interview for the "
            "**{{ job.title }}** role{% if job.department %} in our {{ job.department }} team{% endif %}.\n\n"
            "Please reply with a few times that suit you over the next week, and I will send a calendar invite.\n\n"
            "Best,\n{{ recruiter.first_name }}"
        ),
        "stage": "Interview",
    },
    {
        "name": "Interview reminder (SMS)",
        "channel": "sms",
        "category": "interview",
        "body": (
            "Hi {{ candidate.first_name }}, a reminder of your interview for {{ job.title }} with "
            "{{ company.name }}. Reply here if anything changes. {{ recruiter.first_name }}"
        ),
    },
    {
        # Sent by the career site when someone applies (rapport/careers/services.py finds it by this name).
        "name": "Application received",
        "channel": "email",
        "category": "application",
        "language": "en",
        "subject": "We received your application for {{ job.title }}",
        "body": (
            "Hi {{ candidate.first_name }},\n\n"
            "Thank you for applying for the **{{ job.title }}** role at {{ company.name }}. We have your "
            "application and will read it carefully; we will write to you as soon as we have news.\n\n"
            "Best wishes,\n{{ recruiter.name or company.name }}"
        ),
    },
    {
        "name": "Kind rejection",
        "channel": "email",
        "category": "rejection",
        "language": "en",
        "subject": "Your application for {{ job.title }}",
        "body": (
            "Hi {{ candidate.first_name }},\n\n"
            "Thank you for the time you gave us for the **{{ job.title }}** role. We have decided to move forward "
            "with other candidates whose experience matches this opening more closely.\n\n"
            "This was not an easy decision, and we would like to stay in touch for future roles. "
            "You can [choose what you hear from us]({{ preferences_link }}) at any time.\n\n"
            "All the best,\n{{ recruiter.name }}"
        ),
    },
    {
        "name": "Nurture: staying in touch",
        "channel": "email",
        "category": "nurture",
        "language": "en",
        "subject": "News from {{ company.name }}",
        "body": (
            "Hi {{ candidate.first_name }},\n\n"
            "It has been a while since we spoke, so here is a quick update: we are growing, and new roles open "
            "every month on [our career site]({{ company.careers_link }}).\n\n"
            "If you are curious, just reply and we can catch up.\n\n"
            "Best,\n{{ recruiter.first_name }}\n\n"
            "[Unsubscribe]({{ unsubscribe_link }})"
        ),
    },
    {
        "name": "Quick check-in (WhatsApp)",
        "channel": "whatsapp",
        "category": "general",
        "body": "Hi {{ candidate.first_name }}, it's {{ recruiter.first_name }} from {{ company.name }}. Do you have "
        "a minute for a quick question?",
    },
]


def demo_templates_ensure(*, author: User) -> int:
    """Create the demo templates through the service (so they pass the same checks) once; returns how many."""
    from rapport.jobs.services import stage_templates_ensure

    if MessageTemplate.objects.exists():
        return 0
    stages = {stage.name: stage for stage in stage_templates_ensure()}
    for spec in DEMO_TEMPLATES:
        data = {key: value for key, value in spec.items() if key != "stage"}
        if spec.get("stage") in stages:
            data["stage_template_id"] = stages[spec["stage"]].pk
        message_template_create(actor=author, data=data)
    return len(DEMO_TEMPLATES)
