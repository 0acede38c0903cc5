"""Acceptance test report versions and their sign-off trail.

A version is immutable once rendered: its PDF bytes, their SHA-256 and the data it was
rendered from never change. Sign-off events are append-only and chained by hash: each
event's hash covers its own fields and the previous event's hash.
"""

import hashlib
import json
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from engagements.models import Engagement


class ReportVersion(models.Model):
    class Status(models.TextChoices):
        RENDERING = "rendering", _("Rendering")
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued for sign-off")
        SIGNED = "signed", _("Signed off")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Rendering failed")

    class Language(models.TextChoices):
        ZH = "zh-hans", "简体中文"
        EN = "en", "English"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="report_versions")
    number = models.PositiveIntegerField(_("version"))
    language = models.CharField(_("language"), max_length=10, choices=Language.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RENDERING)
    data = models.JSONField(default=dict, editable=False)
    pdf = models.BinaryField(null=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    failure = models.TextField(blank=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    rendered_at = models.DateTimeField(null=True, editable=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                  editable=False)
    issued_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["engagement", "number"], name="unique_report_version")]

    def __str__(self) -> str:
        return f"{self.engagement.code} v{self.number}"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SIGNED, self.Status.REJECTED)

    @property
    def filename(self) -> str:
        return f"{self.engagement.code}-acceptance-v{self.number}-{self.language}.pdf"


class SignOffEvent(models.Model):
    """Append-only: saving an existing event or deleting one raises."""

    class Action(models.TextChoices):
        ISSUED = "issued", _("Issued for sign-off")
        SIGNED = "signed", _("Signed off")
        REJECTED = "rejected", _("Rejected")

    version = models.ForeignKey(ReportVersion, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(_("name"), max_length=100, blank=True)
    signer_title = models.CharField(_("title"), max_length=100, blank=True)
    statement = models.TextField(blank=True)
    comment = models.TextField(_("comments"), blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()
    version_sha256 = models.CharField(max_length=64)
    signed_pdf = models.BinaryField(null=True)
    signed_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.version} by {self.user}"

    def chained_fields(self) -> dict:
        return {
            "version": str(self.version.uuid), "action": self.action, "user": self.user_id,
            "signer_name": self.signer_name, "signer_title": self.signer_title, "statement": self.statement,
            "comment": self.comment, "ip": self.ip, "user_agent": self.user_agent, "at": self.at.isoformat(),
            "version_sha256": self.version_sha256, "signed_sha256": self.signed_sha256,
            "previous_hash": self.previous_hash,
        }

    def compute_hash(self) -> str:
        payload = json.dumps(self.chained_fields(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(payload).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Sign-off events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Sign-off events are append-only.")
