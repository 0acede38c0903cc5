"""Workflows of the reports: render a version, issue it, sign it off or reject it (the
acceptance test report), acknowledge it (the migration assessment report), and verify a PDF.
``check_*`` functions check the actor and the input, then write.

Both kinds share the pipeline: a version is rendered by a worker from data gathered per kind
(``rendering.build_report_data`` or ``assessment.build_assessment_data``), hashed, issued by a
PM with an e-mail to the customer's contacts, and its trail is one hash chain of events.
"""

import functools
import hashlib
import io
import json
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from pypdf import PdfReader, PdfWriter

from assessments.templatetags.assessments import verdict as verdict_label
from common import access, states
from engagements.models import Engagement, User

from . import reauth, review
from .assessment import TEMPLATE as ASSESSMENT_TEMPLATE
from .assessment import build_assessment_data
from .models import ReportVersion, SignOffEvent
from .rendering import build_report_data, render_html, render_pdf

STATEMENT = {
    "en": "I accept this acceptance test report as meeting the agreed acceptance criteria.",
    "zh-hans": "本人确认本验收测试报告满足双方约定的验收标准，予以验收通过。",
}


# --- rendering -------------------------------------------------------------------------------

def check_request_render(user, engagement: Engagement, language: str, *, kind: str = ReportVersion.Kind.ACCEPTANCE,
                         enqueue: bool = True) -> ReportVersion:
    """A new version of the ``kind`` of report, rendering: a worker renders it (``enqueue``), or
    the caller does at once (``render_version``, as the ``render_report`` command does)."""
    access.require(user, "change", engagement, _("Only the engagement's PM or consultants can render its report."))
    if language not in ReportVersion.Language.values:
        raise ValidationError({"language": _("Choose Chinese or English.")})
    if kind not in ReportVersion.Kind.values:
        raise ValidationError({"kind": _("Choose the acceptance report or the assessment report.")})
    with transaction.atomic():
        Engagement.objects.select_for_update().get(pk=engagement.pk)  # numbers stay unique and gapless
        number = (engagement.report_versions.filter(kind=kind).aggregate(n=Max("number"))["n"] or 0) + 1
        version = ReportVersion.objects.create(engagement=engagement, kind=kind, number=number, language=language,
                                               requested_by=user)
        version.record_transition("", ReportVersion.Status.RENDERING, actor=user, reason=N_("Render requested."))
        if enqueue:
            transaction.on_commit(lambda: _enqueue_render(version.pk))
    return version


# Sent by name: ``tasks`` calls this module, never the other way round.
RENDER_TASK = "reports.tasks.render_report"


def _enqueue_render(version_id: int) -> None:
    current_app.send_task(RENDER_TASK, args=[version_id])


def build_version_data(version: ReportVersion) -> dict:
    """The data of a version, gathered by its kind's builder."""
    build = build_assessment_data if version.kind == ReportVersion.Kind.ASSESSMENT else build_report_data
    return build(version.engagement, number=version.number, language=version.language)


def template_of(version: ReportVersion) -> str:
    """The Jinja2 template (``templates/reports/pdf/``) of a version's kind."""
    return ASSESSMENT_TEMPLATE if version.kind == ReportVersion.Kind.ASSESSMENT else "acceptance.html"


def version_html(version: ReportVersion) -> str:
    """A rendered version's HTML, again, from the data stored with it."""
    return render_html(version.data, template=template_of(version))


def render_version(version_id: int) -> ReportVersion:
    """Render a version once: its data, HTML and PDF. A version that left 'rendering' is
    never rendered again (a new render is a new version). The render runs outside any
    transaction (it takes seconds); only its result is written, to a version still rendering."""
    version = ReportVersion.objects.select_related("engagement").get(pk=version_id)
    if version.status != ReportVersion.Status.RENDERING:
        return version
    try:
        with translation.override(version.language):
            data = build_version_data(version)
            json.dumps(data, allow_nan=False)  # what the JSONField stores: checked before anything is saved
            pdf = render_pdf(render_html(data, template=template_of(version)))
        with transaction.atomic():
            states.move(version, ReportVersion.Status.DRAFT, reason=N_("Rendered."), data=data, pdf=pdf,
                        sha256=hashlib.sha256(pdf).hexdigest(), rendered_at=timezone.now())
    except Exception as exc:  # noqa: BLE001 - any failure ends the version FAILED, with its reason for staff
        # The move to draft may have been made in memory and then rolled back (the commit
        # failed): the row is still rendering, and so is what the guard compares against.
        version.status = ReportVersion.Status.RENDERING
        states.move(version, ReportVersion.Status.FAILED, reason=N_("The render failed."),
                    failure=f"{type(exc).__name__}: {exc}"[:2000])
    version.refresh_from_db()
    return version


def fail_stale_renders() -> int:
    """Versions still rendering past ``REPORT_RENDER_TIMEOUT_SECONDS`` (a lost task, a killed
    worker) end FAILED, so none stays "rendering" for ever; staff can render again."""
    limit = timezone.now() - timedelta(seconds=settings.REPORT_RENDER_TIMEOUT_SECONDS)
    failed = 0
    for version in ReportVersion.objects.filter(status=ReportVersion.Status.RENDERING, created_at__lt=limit):
        failed += states.move(version, ReportVersion.Status.FAILED, reason=N_("The render did not finish in time."),
                              failure=f"The render did not finish within {settings.REPORT_RENDER_TIMEOUT_SECONDS} s.")
    return failed


# --- issuing and sign-off ----------------------------------------------------------------------

def _append_event(version: ReportVersion, at=None, **fields) -> SignOffEvent:
    """Append to the hash chain; the chain is serialised with a transaction-level lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(727001)")
    last = SignOffEvent.objects.order_by("-pk").first()
    event = SignOffEvent(version=version, version_sha256=version.sha256, previous_hash=last.hash if last else "",
                         at=at or timezone.now(), **fields)
    event.hash = event.compute_hash()
    event.save()
    return event


def check_issue(user, version: ReportVersion, request_meta: dict | None = None) -> ReportVersion:
    access.require(user, "issue", version)
    with transaction.atomic():
        version = ReportVersion.objects.select_for_update().select_related("engagement__customer").get(pk=version.pk)
        if version.status != ReportVersion.Status.DRAFT:
            raise ValidationError(_("Only a rendered draft can be issued; this version is %(status)s.")
                                  % {"status": version.get_status_display()})
        if version.kind == ReportVersion.Kind.ACCEPTANCE:
            _require_pass(version)
            if not ((version.data or {}).get("engagement") or {}).get("conclusions"):
                raise ValidationError(_("Write the conclusions and recommendations before issuing the report, then "
                                        "render a new version: the customer signs what the report says."))
        _move(version, ReportVersion.Status.ISSUED, actor=user, issued_by=user, issued_at=timezone.now())
        if version.kind == ReportVersion.Kind.ACCEPTANCE:
            # The criteria this report was judged by are now the customer's: changing them starts a new version.
            Engagement.objects.filter(pk=version.engagement_id,
                                      criteria_version=(version.data or {}).get("criteria_version")).update(
                criteria_issued=True)
        _append_event(version, action=SignOffEvent.Action.ISSUED, user=user, **_client(request_meta))
        transaction.on_commit(lambda: _notify_contacts(version))
    return version


ACCEPTABLE_STATUSES = (Engagement.Status.PLANNING, Engagement.Status.ACTIVE, Engagement.Status.ON_HOLD)


def _notify_contacts(version: ReportVersion) -> None:
    if version.kind == ReportVersion.Kind.ASSESSMENT:
        subject = N_("Migration assessment report %(code)s v%(number)s is ready for you to read")
        body = N_("Please read the migration assessment report of %(title)s in the portal and "
                            "acknowledge it.")
    else:
        subject = N_("Acceptance report %(code)s v%(number)s is ready for your sign-off")
        body = N_("Please review the acceptance test report of %(title)s in the portal and sign it "
                            "off or reject it.")
    link = f"{settings.PORTAL_URL}{reverse('version_detail', args=[version.uuid])}"
    contacts = User.objects.filter(role=User.Role.CUSTOMER, customer=version.engagement.customer_id, is_active=True)
    for contact in contacts.exclude(email=""):
        with translation.override(contact.language or settings.LANGUAGE_CODE):
            send_mail(_(subject) % {"code": version.engagement.code, "number": version.number},
                      _(body) % {"title": version.engagement.title} + f"\n\n{link}",
                      settings.DEFAULT_FROM_EMAIL, [contact.email])


def _client(meta: dict | None) -> dict:
    meta = meta or {}
    return {"ip": meta.get("REMOTE_ADDR") or None, "user_agent": (meta.get("HTTP_USER_AGENT") or "")[:500]}


def _require_pass(version: ReportVersion) -> None:
    """A report goes to the customer for sign-off only when every criterion it shows passes:
    signing states that it meets the agreed criteria."""
    if not (version.data or {}).get("passed"):
        raise ValidationError(_("The report's overall verdict is %(verdict)s: only a report that meets every "
                                "acceptance criterion can be issued or signed off. Fix the failing or missing "
                                "figures and render a new version.")
                              % {"verdict": verdict_label((version.data or {}).get("overall"))})


def _move(version: ReportVersion, to_status: str, **kwargs) -> None:
    """Move a (locked) version along ``ReportVersion.TRANSITIONS`` and record the transition; a
    move the map does not allow, or a version moved meanwhile, is an error (nothing was written)."""
    if not states.move(version, to_status, **kwargs):
        raise ValidationError(_("This version is %(status)s: it cannot become %(to)s.")
                              % {"status": version.get_status_display(), "to": ReportVersion.Status(to_status).label})


def _reauthenticated(service):
    """Check the decider's password (``reports.reauth``: limited attempts, audited) before and outside
    the decision's transaction, so that a wrong password stays recorded when the decision rolls back."""

    @functools.wraps(service)
    def checked(user, version: ReportVersion, *, password: str, request_meta: dict | None = None, **kwargs):
        access.require(user, "decide", version)
        reauth.check_password(user, password, purpose=reauth.REPORT_DECISION, request_meta=request_meta)
        return service(user, version, password=password, request_meta=request_meta, **kwargs)

    return checked


def _check_decision(user, version: ReportVersion, password: str) -> ReportVersion:
    """The version locked for a decision; the password was checked by ``_reauthenticated``."""
    access.require(user, "decide", version)
    locked = ReportVersion.objects.select_for_update().select_related("engagement").get(pk=version.pk)
    if locked.status != ReportVersion.Status.ISSUED:
        raise ValidationError(_("This version is %(status)s: it cannot be signed off or rejected.")
                              % {"status": locked.get_status_display()})
    return locked


@_reauthenticated
@transaction.atomic
def check_sign_off(user, version: ReportVersion, *, password: str, name: str, title: str, confirm: bool,
                   request_meta: dict | None = None) -> SignOffEvent:
    version = _check_decision(user, version, password)
    errors = {}
    if not (name or "").strip():
        errors["name"] = _("State your name.")
    if not (title or "").strip():
        errors["title"] = _("State your title.")
    if not confirm:
        errors["confirm"] = _("Confirm that you accept the report as meeting the agreed criteria.")
    if errors:
        raise ValidationError(errors)
    _require_pass(version)
    statement = STATEMENT[version.language]
    event = SignOffEvent(version=version, action=SignOffEvent.Action.SIGNED, user=user, signer_name=name.strip()[:100],
                         signer_title=title.strip()[:100], statement=statement, at=timezone.now(),
                         version_sha256=version.sha256, **_client(request_meta))
    signed = _signed_pdf(version, event)
    event = _append_event(version, at=event.at, action=SignOffEvent.Action.SIGNED, user=user,
                          signer_name=event.signer_name,
                          signer_title=event.signer_title, statement=statement, signed_pdf=signed,
                          signed_sha256=hashlib.sha256(signed).hexdigest(), **_client(request_meta))
    _move(version, ReportVersion.Status.SIGNED, actor=user, at=event.at)
    Engagement.objects.filter(pk=version.engagement_id).update(acceptance_signed_at=event.at)
    # Signed off is accepted: one status, not "active" beside an "accepted" badge.
    Engagement.objects.filter(pk=version.engagement_id, status__in=ACCEPTABLE_STATUSES).update(
        status=Engagement.Status.ACCEPTED)
    return event


@_reauthenticated
@transaction.atomic
def check_reject(user, version: ReportVersion, *, password: str, comment: str,
                 request_meta: dict | None = None) -> SignOffEvent:
    version = _check_decision(user, version, password)
    if not (comment or "").strip():
        raise ValidationError({"comment": _("Say why the report is rejected.")})
    event = _append_event(version, action=SignOffEvent.Action.REJECTED, user=user, comment=comment.strip(),
                          signer_name=user.get_full_name(), **_client(request_meta))
    _move(version, ReportVersion.Status.REJECTED, actor=user, reason=comment.strip(), at=event.at)
    return event


@transaction.atomic
def check_acknowledge(user, version: ReportVersion, request_meta: dict | None = None) -> SignOffEvent:
    """A contact of the customer acknowledges an issued assessment report they have read whole:
    an event on the hash chain (who, when, from where, and the SHA-256 of the version they read),
    and the version becomes acknowledged."""
    access.require(user, "acknowledge", version)
    version = ReportVersion.objects.select_for_update().select_related("engagement").get(pk=version.pk)
    if version.status != ReportVersion.Status.ISSUED:
        raise ValidationError(_("This version is %(status)s: it cannot be acknowledged.")
                              % {"status": version.status_label})
    if not review.has_seen_every_page(user, version):
        raise ValidationError(_("Read every page of the report (or download its PDF) before you acknowledge it."))
    event = _append_event(version, action=SignOffEvent.Action.ACKNOWLEDGED, user=user,
                          signer_name=(user.get_full_name() or user.username)[:100], **_client(request_meta))
    _move(version, ReportVersion.Status.ACKNOWLEDGED, actor=user, at=event.at)
    return event


def _signed_pdf(version: ReportVersion, event: SignOffEvent) -> bytes:
    """The issued PDF, byte for byte its pages, with a sign-off page appended."""
    page = render_pdf(render_html(version.data, signoff={
        "action": event.action, "name": event.signer_name, "title": event.signer_title,
        "at": timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S %Z"), "statement": event.statement,
        "version_sha256": version.sha256, "user": event.user.username,
    }, template="signoff.html"))
    writer = PdfWriter()
    for source in (bytes(version.pdf), page):
        writer.append(PdfReader(io.BytesIO(source)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- verification ------------------------------------------------------------------------------

def verify_pdf(raw: bytes) -> dict:
    """Whether a PDF is a version the portal issued (or its signed copy), and who signed it."""
    digest = hashlib.sha256(raw).hexdigest()
    event = SignOffEvent.objects.filter(signed_sha256=digest).select_related("version__engagement", "user").first()
    version = (event.version if event
               else ReportVersion.objects.filter(sha256=digest).select_related("engagement").first())
    if version is None:
        return {"sha256": digest, "known": False}
    signature = event or version.events.filter(action=SignOffEvent.Action.SIGNED).first()
    acknowledgement = version.events.filter(action=SignOffEvent.Action.ACKNOWLEDGED).first()
    return {
        "sha256": digest, "known": True, "kind": "signed copy" if event else "original",
        "report_kind": version.kind,
        "acknowledged_by": acknowledgement.signer_name if acknowledgement else None,
        "acknowledged_at": acknowledgement.at if acknowledgement else None,
        "engagement": version.engagement.code, "version": version.number, "status": version.status,
        "issued": version.issued_at is not None,
        "signed_by": signature.signer_name if signature else None,
        "signer_title": signature.signer_title if signature else None,
        "signed_at": signature.at if signature else None,
        "chain_intact": chain_is_intact(),
    }


def chain_is_intact() -> bool:
    previous = ""
    for event in SignOffEvent.objects.order_by("pk").select_related("version"):
        if event.previous_hash != previous or event.compute_hash() != event.hash:
            return False
        previous = event.hash
    return True

