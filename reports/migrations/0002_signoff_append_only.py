"""On PostgreSQL, the database itself refuses to change or delete a sign-off event."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION reports_signoffevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'sign-off events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reports_signoffevent_append_only
    BEFORE UPDATE OR DELETE ON reports_signoffevent
    FOR EACH ROW EXECUTE FUNCTION reports_signoffevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS reports_signoffevent_append_only ON reports_signoffevent;
DROP FUNCTION IF EXISTS reports_signoffevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
