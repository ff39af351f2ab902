"""Install the shipped default triggers, so a fresh database has them (see `automation.defaults`).

It runs the same installer as `triggers_install_defaults()`, on the historical Trigger model. It creates no message
templates, so a team's template list stays as they left it: each default trigger names its template in
`config["default_template"]`, and the template is created the first time the trigger sends, or when
`triggers_install_defaults()` runs.
"""

from django.db import migrations


def install(apps, schema_editor):
    from rapport.automation.services_triggers import _install

    _install(apps.get_model("automation", "Trigger"), None)


def remove(apps, schema_editor):
    from rapport.automation.defaults import DEFAULT_TRIGGERS

    Trigger = apps.get_model("automation", "Trigger")
    Trigger.objects.filter(key__in=[spec["key"] for spec in DEFAULT_TRIGGERS], runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0002_sequences_triggers"),
    ]

    operations = [migrations.RunPython(install, remove)]
