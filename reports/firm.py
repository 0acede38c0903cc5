"""The issuing firm's details, kept in one place for the quote and report PDFs (a PM's)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from common import access
from engagements import audit
from engagements.models import Engagement
from engagements.uploads import inspect_upload

from .models import FirmProfile

FIELDS = ("name_zh", "name_en", "address", "tax_number", "bank_name", "bank_account", "payment_terms", "seal_label")
LOGO_MAX_BYTES = 1024 * 1024


def check_save_firm(user, fields: dict, logo=None) -> FirmProfile:
    access.require(user, "manage", Engagement)
    firm = FirmProfile.current()
    before = audit.snapshot(firm) if firm.pk else {}
    for name in FIELDS:
        if name in fields:
            setattr(firm, name, (fields[name] or "").strip())
    if logo is not None:
        try:
            inspect_upload(logo, max_bytes=LOGO_MAX_BYTES, extensions={"png", "jpg", "jpeg"})
        except ValidationError as exc:
            raise ValidationError({"logo": exc.message_dict.get("file", exc.messages)}) from None
        firm.logo = logo
    firm.full_clean()
    with transaction.atomic():
        firm.save()
        changes = audit.diff(before, audit.snapshot(firm))
        if changes:
            audit.record(user, firm, audit.UPDATE, changes=changes)
    return firm
