"""The audit trail: who changed what and when.

Services call ``record`` in the same transaction as the change, with a ``diff`` of
``snapshot``s taken before and after, so the trail cannot disagree with the data.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone, translation

from .models import AuditEvent

CREATE = AuditEvent.Action.CREATE
UPDATE = AuditEvent.Action.UPDATE
DELETE = AuditEvent.Action.DELETE
TRANSITION = AuditEvent.Action.TRANSITION


def _plain_decimal(value: Decimal) -> str:
    """A decimal in plain notation without trailing zeros, so 1.00 and 1 read the same ("1")."""
    if not value.is_finite():
        return str(value)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _plain(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return _plain_decimal(value)
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def snapshot(instance: models.Model) -> dict:
    """The concrete, editable field values of a row, as JSON-safe plain values."""
    values = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.name in ("uuid", "created_at", "updated_at"):
            continue
        if field.is_relation:
            related_id = getattr(instance, field.attname)
            values[field.name] = _plain(getattr(instance, field.name)) if related_id is not None else None
        else:
            values[field.name] = _plain(getattr(instance, field.attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """Field -> [old, new] for every field that changed."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def names(instance: models.Model) -> dict[str, str]:
    """The object's name in each of the portal's languages: readers read the trail in theirs."""
    found = {}
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            found[code] = str(instance)[:300]
    return found


def record(actor, instance: models.Model, action: str, *, engagement=None, changes=None, at=None) -> AuditEvent:
    named = names(instance)
    return AuditEvent.objects.create(
        created_at=at or timezone.now(),
        engagement=engagement,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=instance._meta.model_name,
        object_id=str(instance.pk),
        object_repr=named.get("en") or str(instance)[:300],
        object_names=named,
        changes=changes or {},
    )
