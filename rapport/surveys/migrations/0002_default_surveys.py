"""Two surveys every installation starts with; recruiters can edit, switch off or replace them."""

from django.db import migrations

DEFAULT_SURVEYS = [
    {
        "name": "Candidate experience",
        "intro": "Thank you for interviewing with us. Two quick questions about how it went.",
        "moment": "after_interview",
        "anonymous": False,
        "questions": [
            {"kind": "csat", "text": "How satisfied are you with your interview experience?", "required": True},
            {"kind": "text", "text": "What could we do better?", "required": False},
        ],
    },
    {
        "name": "Recommendation after a decision",
        "intro": "Whatever the outcome, your view helps us improve how we hire.",
        "moment": "after_decision",
        "anonymous": True,
        "questions": [
            {
                "kind": "nps",
                "text": "How likely are you to recommend applying here to a friend?",
                "required": True,
            },
            {"kind": "text", "text": "What is the main reason for your score?", "required": False},
        ],
    },
]


def create_defaults(apps, schema_editor):
    Survey = apps.get_model("surveys", "Survey")
    SurveyQuestion = apps.get_model("surveys", "SurveyQuestion")
    for spec in DEFAULT_SURVEYS:
        if Survey.objects.filter(name=spec["name"]).exists():
            continue
        fields = {key: value for key, value in spec.items() if key != "questions"}
        survey = Survey.objects.create(cooldown_days=90, is_active=True, **fields)
        for position, question in enumerate(spec["questions"]):
            SurveyQuestion.objects.create(survey=survey, position=position, choices=[], **question)


def remove_defaults(apps, schema_editor):
    Survey = apps.get_model("surveys", "Survey")
    Survey.objects.filter(name__in=[spec["name"] for spec in DEFAULT_SURVEYS], responses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_surveys")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
