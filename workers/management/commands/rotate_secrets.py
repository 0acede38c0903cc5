"""Re-encrypt every stored secret with the newest key in FERNET_KEYS.

Rotation: put a new key first in FERNET_KEYS, run this command, then drop the old key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from workers import secrets


class Command(BaseCommand):
    help = "Re-encrypt all secrets with the newest FERNET_KEYS key."

    @transaction.atomic
    def handle(self, *args, **options):
        total = 0
        for label, field in secrets.ENCRYPTED_FIELDS:
            model = apps.get_model(label)
            for row in model.objects.select_for_update().exclude(**{field: ""}).only("pk", field):
                setattr(row, field, secrets.rotate(getattr(row, field)))
                row.save(update_fields=[field])
                total += 1
        self.stdout.write(self.style.SUCCESS(
            f"Re-encrypted {total} secret(s) in {len(secrets.ENCRYPTED_FIELDS)} column(s)."))
