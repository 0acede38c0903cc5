"""Checklist items and models under migration get a UUID like every other object of the API
(existing rows get fresh ones)."""

import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    for name in ("ChecklistItem", "MigrationModel"):
        model = apps.get_model("engagements", name)
        rows = list(model.objects.only("pk"))
        for row in rows:
            row.uuid = uuid.uuid4()
        model.objects.bulk_update(rows, ["uuid"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("engagements", "0004_audit_object_names")]

    operations = [
        migrations.AddField("checklistitem", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("migrationmodel", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField("checklistitem", "uuid",
                              models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
        migrations.AlterField("migrationmodel", "uuid",
                              models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
    ]
