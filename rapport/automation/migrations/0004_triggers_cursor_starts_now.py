from django.db import migrations
from django.db.models import Max


def start_at_the_present(apps, schema_editor):
    """Triggers react to what happens after they are installed: an existing installation's history is the past,
    not a backlog of events to fire on."""
    Activity = apps.get_model("timeline", "Activity")
    TimelineCursor = apps.get_model("notifications", "TimelineCursor")
    newest = Activity.objects.aggregate(newest=Max("id"))["newest"] or 0
    TimelineCursor.objects.get_or_create(name="triggers", defaults={"last_id": newest})


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0003_default_triggers"),
        ("notifications", "0001_initial"),
        ("timeline", "0002_drop_redundant_indexes"),
    ]

    operations = [migrations.RunPython(start_at_the_present, migrations.RunPython.noop)]
