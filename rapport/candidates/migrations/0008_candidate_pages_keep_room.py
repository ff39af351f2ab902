"""PostgreSQL: the people table's pages keep a tenth of their room free (fillfactor 90).

People are updated all the time (engagement scores, status, owner, every edit's updated_at). An update can stay on
its page, without touching the table's nine indexes (a HOT update), only if the page has room for the new version.
It also keeps bulk inserts off nearly full pages: after a vacuum, a 20,000-row import spread its new people over
13,000 pages with a few hundred bytes free each, one or two per page, reading each one and writing a full-page image
of it to the WAL (105 MB); now a page must have a tenth of its room plus the row free to take one, and the import
fills new pages instead (530 pages, 4 MB). Only new writes keep the room: existing pages are left as they are.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE candidates_candidate SET (fillfactor = 90)")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE candidates_candidate RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("candidates", "0007_drop_unused_first_name_index")]
    operations = [migrations.RunPython(forward, backward)]
