"""Install the shipped default triggers added since 0003 (the survey ones); the installer skips those present."""

from django.db import migrations


def install(apps, schema_editor):
    from rapport.automation.services_triggers import _install

    _install(apps.get_model("automation", "Trigger"), None)


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0004_triggers_cursor_starts_now"),
        ("surveys", "0002_default_surveys"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
