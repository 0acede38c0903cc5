"""The access matrix: every URL (pages and API) x every role, for the objects of one engagement.

The product owner's rule, checked row by row:

- an object outside the user's scope answers **404**, everywhere (pages and API);
- in scope but not allowed: **403**, everywhere;
- allowed: not 403, not 404 and not a 5xx (a 2xx, a redirect, or a 400 for the minimal data
  these requests send);
- anonymous users are never served: pages redirect to the login page, the API answers 401/403.

Scope: a PM sees every engagement; a consultant those they are assigned to; a customer's
contact their own customer's. Report versions still rendering, drafts and failed renders, and
draft quotes, are outside a contact's scope. Internal things (hosts, jobs, assessments, loss
curves, the risk register, work logs, planned vs actual, a stage's jobs page) are in scope for
a contact of the engagement's customer but refused: 403. A host of customer X is in scope for
whoever sees an engagement of customer X.

Changes: a PM changes any engagement, a consultant only those they are assigned to; customer
contacts change nothing, but sign off / reject an issued report and accept / reject a sent
quote of their customer. Finer rules come from the access policies (``*/access.py``): quotes
and the terms of an engagement are managed by a PM only, reports are issued by a PM only, a
work log is changed only by the person who logged it (deleted by them or a PM).

Roles (test ids ``<row>-<role>``), the cast of ``tests/conftest.py``:

- ``anonymous``;
- ``customer``: a contact of the engagement's customer A (``contact``);
- ``customer_other``: a contact of customer B (``stranger``);
- ``consultant``: assigned to the engagement (``consultant``);
- ``consultant_other``: a consultant not assigned to it (``other_consultant``);
- ``pm``.

The objects are built once for the module, inside a transaction rolled back at its end, and
each test runs in a savepoint of it and reads them afresh: a row that deletes or changes
something leaves the next row the same data. Nothing here connects anywhere: the host listens
on a closed loopback port and has no pinned key (so "test" stops before connecting and
fetching its key for "pin key" is refused at once), jobs and report versions are created directly, and Celery
tasks (sent on commit) never leave the transaction.

``test_every_url_has_a_row`` fails when a URL pattern has no row in the table.
"""

import datetime
import importlib
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import override_settings
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from tests.conftest import make_curve
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    MigrationModelFactory,
    RiskFactory,
    UserFactory,
    make_engagement,
)

ROLES = ("anonymous", "customer", "customer_other", "consultant", "consultant_other", "pm")
USER_OF = {
    "customer": "contact",
    "customer_other": "stranger",
    "consultant": "consultant",
    "consultant_other": "other_consultant",
    "pm": "pm",
}

# --- expectations ---------------------------------------------------------------------------

OK = "allowed"  # not 401/403/404 and not 5xx: a 2xx, a redirect, or a 400 for the minimal data sent
BAD_DATA = "refused for its data"  # 400 or 404: the request names objects it may not use; nothing changes


def expect(customer, customer_other, consultant, consultant_other, pm) -> dict:
    return {"customer": customer, "customer_other": customer_other, "consultant": consultant,
            "consultant_other": consultant_other, "pm": pm}


# Engagement data a contact of its customer reads.
READ = expect(customer=OK, customer_other=404, consultant=OK, consultant_other=404, pm=OK)
# Internal things of the engagement: in scope for its customer's contact, but refused.
INTERNAL = expect(customer=403, customer_other=404, consultant=OK, consultant_other=404, pm=OK)
# Changing the engagement's work: its PM or an assigned consultant.
CHANGE = expect(customer=403, customer_other=404, consultant=OK, consultant_other=404, pm=OK)
# Managing (terms of the engagement, quotes, issuing reports): a PM only.
MANAGE = expect(customer=403, customer_other=404, consultant=403, consultant_other=404, pm=OK)
# A contact of the customer decides (report sign-off, quote acceptance); staff may not.
DECIDE = expect(customer=OK, customer_other=404, consultant=403, consultant_other=404, pm=403)
# Lists (no object in the URL): everyone signed in gets their own scope.
LIST = expect(customer=OK, customer_other=OK, consultant=OK, consultant_other=OK, pm=OK)
# Lists of internal things: refused to customer contacts.
STAFF_LIST = expect(customer=403, customer_other=403, consultant=OK, consultant_other=OK, pm=OK)
# Creating from a list URL what only a PM creates (engagements, quotes).
PM_LIST = expect(customer=403, customer_other=403, consultant=403, consultant_other=403, pm=OK)


def hidden_from_customer(base: dict) -> dict:
    """The same, for an object outside a contact's scope (a draft report or quote): 404."""
    return {**base, "customer": 404}


# --- the objects of one engagement ------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on: a connection is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DELIVERABLE_BYTES = b"the plan\n"
JOB_LOG = "checking the disks\n"


def one_page_pdf() -> bytes:
    """A real one-page PDF: the version page shows it page by page (``reports.review``)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def build_dataset() -> dict:
    """The cast of ``tests/conftest.py`` and customer A's engagement with one object of every
    kind a URL names (plus customer B's engagement, with curves and a pair of its own).
    Returns ``{name: (model, pk)}``; each test reads the objects afresh."""
    from assessments.models import CurvePair, Finding, MigrationAnalysis
    from engagements.models import Deliverable, User, WorkLog
    from reports import quotes
    from reports.models import RateCardItem, ReportVersion, SignOffEvent
    from reports.rendering import build_report_data
    from workers import secrets
    from workers.models import AscendHost, Job

    customer_a = CustomerFactory(name="Customer A 甲客户")
    customer_b = CustomerFactory(name="Customer B 乙客户")
    pm = UserFactory(username="pm", role=User.Role.PM, first_name="Jing", last_name="Zhang")
    consultant = UserFactory(username="consultant", role=User.Role.CONSULTANT, first_name="Wei", last_name="Li")
    other_consultant = UserFactory(username="other_consultant", role=User.Role.CONSULTANT)
    contact = UserFactory(username="contact", role=User.Role.CUSTOMER, customer=customer_a)
    stranger = UserFactory(username="stranger", role=User.Role.CUSTOMER, customer=customer_b)
    engagement = make_engagement(pm, customer_a, consultants=[consultant])
    other_engagement = make_engagement(pm, customer_b)  # nobody of the cast assigned
    stage = engagement.stages.order_by("order").first()

    risk = RiskFactory(engagement=engagement)
    from engagements.models import Questionnaire

    questionnaire = Questionnaire.objects.create(engagement=engagement, created_by=engagement.pm,
                                                 status=Questionnaire.Status.SENT, business_scenario="OCR")
    worklog = WorkLog.objects.create(consultant=consultant, stage=stage, date=datetime.date(2026, 2, 2),
                                     person_days=Decimal("0.5"), summary="Installed CANN")
    # The file itself is written into each test's MEDIA_ROOT (``World.deliverable``).
    deliverable = Deliverable.objects.create(stage=stage, file=f"deliverables/{engagement.uuid}/matrix-plan",
                                             original_name="plan.txt", size=len(DELIVERABLE_BYTES),
                                             content_type="text/plain", sha256="0" * 64, uploaded_by=consultant)
    # Never reached: a closed loopback port, and no pinned key (a test connection stops before connecting).
    host = AscendHost.objects.create(customer=customer_a, name="npu-01", address="127.0.0.1", port=closed_port(),
                                     username="ascend", auth_method="password",
                                     secret=secrets.encrypt("not-a-real-password"), created_by=pm)
    other_host = AscendHost.objects.create(customer=customer_b, name="npu-b", address="127.0.0.1", port=closed_port(),
                                           username="ascend", auth_method="password",
                                           secret=secrets.encrypt("not-a-real-password"), created_by=pm)
    job = Job.objects.create(kind="disk_check", engagement=engagement, stage=stage, host=host, started_by=consultant,
                             status=Job.Status.RUNNING, started_at=timezone.now(), output_tail=JOB_LOG)
    from workers.models import JobTemplate

    job_template = JobTemplate.objects.create(engagement=engagement, stage=stage, name="disk", kind="disk_check",
                                              host=host, parameters={}, created_by=consultant)

    def curves(of, label):
        return (make_curve(of, "gpu", [3.0, 2.5, 2.0, 1.8], f"{label} A100", pm),
                make_curve(of, "npu", [3.0, 2.5, 2.0, 1.81], f"{label} 910B", pm))

    gpu, npu = curves(engagement, "A")
    pair = CurvePair.objects.create(engagement=engagement, reference=gpu, npu=npu, created_by=consultant)
    other_gpu, other_npu = curves(other_engagement, "B")
    other_pair = CurvePair.objects.create(engagement=other_engagement, reference=other_gpu, npu=other_npu,
                                          created_by=pm)

    importlib.import_module("reports.migrations.0004_seed_rate_card").seed(django_apps, None)  # as ``rate_card``
    rate_item = RateCardItem.objects.order_by("position", "pk").first()

    def quote(title):
        made = quotes.check_create_quote(pm, customer=customer_a, engagement=engagement, title=title,
                                         valid_until=datetime.date.today() + datetime.timedelta(days=30))
        return quotes.check_set_lines(pm, made, [{"item": rate_item, "person_days": Decimal("3")}])

    draft_quote = quote("Migration, draft")
    sent_quote = quotes.check_send(pm, quote("Migration, sent"))

    def version(status):
        number = engagement.report_versions.count() + 1
        rendered = status not in (ReportVersion.Status.RENDERING, ReportVersion.Status.FAILED)
        issued = status in (ReportVersion.Status.ISSUED, ReportVersion.Status.SIGNED)
        # Real report data (the preview renders it), whose verdict does not pass: issuing or
        # signing it is refused for its data (400), so no PDF is ever rendered here.
        return ReportVersion.objects.create(
            engagement=engagement, number=number, language="en", status=status, requested_by=consultant,
            data=build_report_data(engagement, number=number, language="en") if rendered else {},
            pdf=one_page_pdf() if rendered else None,
            sha256=f"{number:064d}" if rendered else "", rendered_at=timezone.now() if rendered else None,
            failure="RuntimeError: no fonts" if status == ReportVersion.Status.FAILED else "",
            issued_by=pm if issued else None, issued_at=timezone.now() if issued else None,
        )

    signed_version = version("signed")
    SignOffEvent.objects.create(version=signed_version, action=SignOffEvent.Action.SIGNED, user=contact,
                                signer_name="Li Na", signer_title="CTO", at=timezone.now(),
                                version_sha256=signed_version.sha256, signed_pdf=b"%PDF-1.4 signed copy\n",
                                signed_sha256="1" * 64, hash=f"matrix-{signed_version.uuid}")
    versions = {f"{status}_version": version(status) for status in ("draft", "rendering", "failed", "issued")}
    versions["issued_assessment"] = ReportVersion.objects.create(  # the migration assessment report, issued
        engagement=engagement, kind=ReportVersion.Kind.ASSESSMENT, number=1, language="en", status="issued",
        requested_by=consultant, data={"kind": "assessment"}, pdf=one_page_pdf(), sha256="a" * 64,
        rendered_at=timezone.now(), issued_by=pm, issued_at=timezone.now())
    # After the versions: report data of an analysis with findings holds lazy labels that the
    # data's JSON column cannot store (``reports.rendering``, "counts").
    analysis = MigrationAnalysis.objects.create(engagement=engagement, stage=stage, code_dir="/src/model",
                                                files_scanned=12, effort_person_days=Decimal("4.0"))
    Finding.objects.create(analysis=analysis, source="scanner", category="cuda_api", fix="auto", file="train.py",
                           line=3, api="torch.cuda.synchronize")
    from assessments.models import ScoreBaseline, TuningMeasure
    from engagements.models import PerformanceBaseline

    migration_model = MigrationModelFactory(engagement=engagement)
    score_baseline = ScoreBaseline.objects.create(engagement=engagement, model=migration_model, dataset="ceval",
                                                  score=70.5)
    performance_baseline = PerformanceBaseline.objects.create(engagement=engagement, model=migration_model,
                                                              metric="samples_per_s", unit="samples/s",
                                                              direction="higher", value=Decimal("850"))
    tuning_measure = TuningMeasure.objects.create(engagement=engagement, stage=stage, model=migration_model,
                                                  change="Fused attention", created_by=consultant)
    # Tuning evidence (tuning/): one record of each kind, and a benchmark run to link a configuration to.
    from assessments.models import BenchmarkRun
    from tuning.models import AccuracyComparison, AtcConversion, Profile, ServiceConfig

    accuracy = AccuracyComparison.objects.create(engagement=engagement, label="msprobe", rows=1,
                                                 counts={"pass": 1}, created_by=consultant)
    profile = Profile.objects.create(engagement=engagement, label="before", summary={"step_time_us": 1000.0},
                                     created_by=consultant)
    service_config = ServiceConfig.objects.create(engagement=engagement, model=migration_model, version=1,
                                                  config={}, fields={}, created_by=consultant)
    atc_conversion = AtcConversion.objects.create(engagement=engagement, label="atc", success=True,
                                                  created_by=consultant)
    bench_job = Job.objects.create(kind="inference_benchmark", engagement=engagement, stage=stage, host=host,
                                   started_by=consultant, status=Job.Status.SUCCEEDED, exit_code=0)
    benchmark = BenchmarkRun.objects.create(engagement=engagement, job=bench_job, summary={"first_token_ms": 90.0})
    objects = {
        "accuracy": accuracy, "profile": profile, "service_config": service_config,
        "atc_conversion": atc_conversion, "benchmark": benchmark,
        "score_baseline": score_baseline, "performance_baseline": performance_baseline,
        "tuning_measure": tuning_measure,
        "customer_a": customer_a, "pm": pm, "consultant": consultant, "other_consultant": other_consultant,
        "contact": contact, "stranger": stranger, "engagement": engagement, "other_engagement": other_engagement,
        "stage": stage, "checklist_item": stage.checklist.order_by("position").first(), "risk": risk,
        "questionnaire": questionnaire,
        "worklog": worklog, "deliverable": deliverable, "migration_model": migration_model,
        "job_template": job_template,
        "host": host, "other_host": other_host, "job": job, "analysis": analysis, "gpu": gpu, "npu": npu,
        "pair": pair, "other_gpu": other_gpu, "other_npu": other_npu, "other_pair": other_pair,
        "rate_item": rate_item, "draft_quote": draft_quote, "sent_quote": sent_quote,
        "signed_version": signed_version, **versions,
    }
    return {name: (type(obj), obj.pk) for name, obj in objects.items()}


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end; each test
    runs in a savepoint of it (pytest-django's ``django_db``), so whatever a row deletes or
    changes is back for the next one."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                built = build_dataset()
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


class World:
    """This test's view of the dataset: each object read from the database on first use."""

    def __init__(self, dataset):
        self._dataset = dataset
        self._objects = {}

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._dataset:
            raise AttributeError(name)
        if name not in self._objects:
            model, pk = self._dataset[name]
            obj = model.objects.get(pk=pk)
            self._objects[name] = obj
            if name == "deliverable":
                path = Path(django_settings.MEDIA_ROOT) / obj.file.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(DELIVERABLE_BYTES)
            elif name == "job":
                from workers.runner import local_log_path

                path = local_log_path(obj)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(JOB_LOG)
        return self._objects[name]

    @property
    def curves(self):
        return self.gpu, self.npu

    @property
    def other_curves(self):
        return self.other_gpu, self.other_npu

    def user(self, role):
        return None if role == "anonymous" else getattr(self, USER_OF[role])


@pytest.fixture
def world(dataset, db):
    return World(dataset)


# --- the table ----------------------------------------------------------------------------------


def url(name, *args, **kwargs) -> str:
    return reverse(name, args=args, kwargs=kwargs or None)


@dataclass(frozen=True)
class Row:
    id: str  # the test id's first part
    name: str  # the URL pattern's name (the completeness test counts these)
    method: str  # get, post, patch, delete
    target: Callable  # world -> (path, data)
    expect: dict  # role -> 403, 404, OK, BAD_DATA, or a set of statuses
    api: bool = False
    multipart: bool = False  # an API row whose endpoint takes a multipart body (an upload)
    # world -> True while the object the request would change or delete is untouched; asserted
    # whenever the role is refused.
    unchanged: Callable | None = field(default=None, compare=False)


def page(id, method, target, expected, *, name=None, unchanged=None) -> Row:
    return Row(id, name or id, method, target, expected, api=False, unchanged=unchanged)


def api(id, method, target, expected, *, name=None, unchanged=None, multipart=False) -> Row:
    return Row(id, name or id, method, target, expected, api=True, multipart=multipart, unchanged=unchanged)


def eng(w):
    return w.engagement.uuid


def today() -> str:
    return timezone.localdate().isoformat()


def exists(model_attr):
    """``unchanged`` for a delete: the object is still there."""
    def check(w):
        obj = getattr(w, model_attr)
        return type(obj).objects.filter(pk=obj.pk).exists()
    return check


def status_is(model_attr, status):
    def check(w):
        obj = getattr(w, model_attr)
        return type(obj).objects.get(pk=obj.pk).status == status
    return check


def job_not_cancelled(w):
    from workers.models import Job

    return not Job.objects.get(pk=w.job.pk).cancel_requested


def foreign_pair_untouched(w):
    """Customer B's pair is still there, and engagement A has no pair made of B's curves."""
    from assessments.models import CurvePair

    gpu, npu = w.other_curves
    return (CurvePair.objects.filter(pk=w.other_pair.pk).exists()
            and not CurvePair.objects.filter(engagement=w.engagement, reference=gpu).exists()
            and not CurvePair.objects.filter(engagement=w.engagement, npu=npu).exists())


SIGN_FORM = {"name": "Li Na", "title": "CTO", "confirm": "on", "password": PASSWORD}
REJECT_FORM = {"comment": "The loss curve diverges after step 3.", "password": PASSWORD}
EMPTY_FORMSETS = {"lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0",
                  "cloud-TOTAL_FORMS": "0", "cloud-INITIAL_FORMS": "0"}

ROWS = [
    # --- engagements/urls.py ---------------------------------------------------------------
    page("home", "get", lambda w: (url("home"), None), LIST),
    page("engagement_list", "get", lambda w: (url("engagement_list"), None), LIST),
    # Setting up the work: a PM's.
    page("engagement_new", "get", lambda w: (url("engagement_new"), None), PM_LIST),
    page("engagement_edit", "get", lambda w: (url("engagement_edit", uuid=eng(w)), None), MANAGE),
    page("engagement_close", "post", lambda w: (url("engagement_close", uuid=eng(w)), {"confirm": "on"}), MANAGE,
         unchanged=lambda w: type(w.engagement).objects.get(pk=w.engagement.pk).status != "closed"),
    page("customer_list", "get", lambda w: (url("customer_list"), None), PM_LIST),
    page("firm_settings", "get", lambda w: (url("firm_settings"), None), PM_LIST),
    page("customer_detail", "get", lambda w: (url("customer_detail", uuid=w.customer_a.uuid), None), PM_LIST),
    page("contact_reinvite", "post", lambda w: (url("contact_reinvite", uuid=w.customer_a.uuid,
                                                    user_id=w.contact.pk), {}), PM_LIST),
    # Each user's own: what waits for them and how they are told.
    page("inbox", "get", lambda w: (url("inbox"), None), LIST),
    page("notification_settings", "post", lambda w: (url("notification_settings"), {"frequency": "daily"}), LIST),
    page("engagement_detail", "get", lambda w: (url("engagement_detail", uuid=eng(w)), None), READ),
    page("risk_register", "get", lambda w: (url("risk_register", uuid=eng(w)), None), INTERNAL),
    page("risk_register_post", "post", lambda w: (url("risk_register", uuid=eng(w)), {
        "category": "network", "description": "No internet", "likelihood": "2", "impact": "3", "mitigation": "",
        "owner": "", "status": "open"}), CHANGE, name="risk_register"),
    page("risk_delete", "post", lambda w: (url("risk_delete", uuid=eng(w), risk_uuid=w.risk.uuid), {}), CHANGE,
         unchanged=exists("risk")),
    page("questionnaire", "get", lambda w: (url("questionnaire", uuid=eng(w)), None), READ),
    # While the questionnaire is with the customer, its contact fills it in and staff may correct it.
    page("questionnaire_post", "post", lambda w: (url("questionnaire", uuid=eng(w)), {
        "q-business_scenario": "OCR", "models-TOTAL_FORMS": "0", "models-INITIAL_FORMS": "0"}), READ,
         name="questionnaire"),
    page("questionnaire_start", "post", lambda w: (url("questionnaire_start", uuid=eng(w)), {}), CHANGE),
    page("questionnaire_action", "post", lambda w: (url("questionnaire_action", uuid=eng(w), action="submit"),
                                                    {"questionnaire": w.questionnaire.pk}), DECIDE,
         unchanged=status_is("questionnaire", "sent")),
    page("stage_detail", "get", lambda w: (url("stage_detail", uuid=w.stage.uuid), None), READ),
    page("stage_transition", "post", lambda w: (url("stage_transition", uuid=w.stage.uuid),
                                                {"to_status": "in_progress", "reason": ""}), CHANGE,
         unchanged=status_is("stage", "not_started")),
    page("stage_plan", "post", lambda w: (url("stage_plan", uuid=w.stage.uuid), {
        "planned_start": "2026-01-05", "planned_end": "2026-01-30", "planned_person_days": "5"}), CHANGE),
    page("checklist_item_state", "post", lambda w: (url("checklist_item_state", uuid=w.stage.uuid,
                                                        item_id=w.checklist_item.pk),
                                                    {"state": "done", "reason": ""}), CHANGE),
    page("log_work", "post", lambda w: (url("log_work", uuid=w.stage.uuid), {
        "date": today(), "person_days": "0.5", "summary": "Read the code", "blockers": ""}), CHANGE),
    page("worklog_delete", "post", lambda w: (url("worklog_delete", uuid=w.stage.uuid, log_uuid=w.worklog.uuid), {}),
         CHANGE, unchanged=exists("worklog")),
    page("deliverable_upload", "post", lambda w: (url("deliverable_upload", uuid=w.stage.uuid), {
        "file": SimpleUploadedFile("notes.txt", b"notes\n", content_type="text/plain"), "description": "notes"}),
         CHANGE),
    page("deliverable_download", "get", lambda w: (url("deliverable_download", uuid=w.deliverable.uuid), None), READ),

    # --- workers/urls.py -----------------------------------------------------------------------
    page("host_list", "get", lambda w: (url("host_list"), None), STAFF_LIST),
    page("host_list_post", "post", lambda w: (url("host_list"), {}), STAFF_LIST, name="host_list"),
    page("host_detail", "get", lambda w: (url("host_detail", uuid=w.host.uuid), None), INTERNAL),
    # Customer B's host: in scope (internal, 403) for B's contact, out of scope for everyone of A.
    page("host_detail_other_customer", "get", lambda w: (url("host_detail", uuid=w.other_host.uuid), None),
         expect(customer=404, customer_other=403, consultant=404, consultant_other=404, pm=OK), name="host_detail"),
    page("host_edit", "get", lambda w: (url("host_edit", uuid=w.host.uuid), None), CHANGE),
    page("host_edit_post", "post", lambda w: (url("host_edit", uuid=w.host.uuid), {}), CHANGE, name="host_edit"),
    page("host_pin_key", "post", lambda w: (url("host_pin_key", uuid=w.host.uuid), {
        "key_type": "ssh-ed25519", "key_base64": "AAAA", "fingerprint": "SHA256:nothing"}), CHANGE),
    page("host_test", "post", lambda w: (url("host_test", uuid=w.host.uuid), {}), CHANGE),
    page("stage_jobs", "get", lambda w: (url("stage_jobs", uuid=w.stage.uuid), None), INTERNAL),
    page("stage_jobs_post", "post", lambda w: (url("stage_jobs", uuid=w.stage.uuid), {
        "kind": "disk_check", "host": w.host.pk}), CHANGE, name="stage_jobs"),
    page("job_detail", "get", lambda w: (url("job_detail", uuid=w.job.uuid), None), INTERNAL),
    page("job_live", "get", lambda w: (url("job_live", uuid=w.job.uuid), None), INTERNAL),
    page("job_log", "get", lambda w: (url("job_log", uuid=w.job.uuid), None), INTERNAL),
    page("job_cancel", "post", lambda w: (url("job_cancel", uuid=w.job.uuid), {}), CHANGE,
         unchanged=job_not_cancelled),
    page("job_save_template", "post", lambda w: (url("job_save_template", uuid=w.job.uuid), {"name": "again"}),
         CHANGE),
    page("job_template_edit", "get", lambda w: (url("job_template_edit", uuid=w.job_template.uuid), None), INTERNAL),
    page("job_template_edit_post", "post", lambda w: (url("job_template_edit", uuid=w.job_template.uuid), {
        "kind": "disk_check", "host": w.host.pk, "template_name": "disk 2"}), CHANGE, name="job_template_edit"),
    page("job_template_launch", "post", lambda w: (url("job_template_launch", uuid=w.job_template.uuid), {}), CHANGE),
    page("job_template_delete", "post", lambda w: (url("job_template_delete", uuid=w.job_template.uuid), {}), CHANGE,
         unchanged=exists("job_template")),

    # --- assessments/urls.py -----------------------------------------------------------------
    page("engagement_assessments", "get", lambda w: (url("engagement_assessments", uuid=eng(w)), None), INTERNAL),
    page("analysis_detail", "get", lambda w: (url("analysis_detail", uuid=eng(w), pk=w.analysis.pk), None),
         INTERNAL),
    page("curve_upload", "post", lambda w: (url("curve_upload", uuid=eng(w)), {}), CHANGE),
    page("curve_pair", "post", lambda w: (url("curve_pair", uuid=eng(w)), {
        "reference": w.curves[0].pk, "npu": w.curves[1].pk}), CHANGE),
    # Engagement A's page, customer B's curves: whoever may pair on A is refused for the data
    # (B's curves are not A's; for the consultant they do not even exist).
    page("curve_pair_foreign_curves", "post", lambda w: (url("curve_pair", uuid=eng(w)), {
        "reference": w.other_curves[0].pk, "npu": w.other_curves[1].pk}),
         expect(customer=403, customer_other=404, consultant=BAD_DATA, consultant_other=404, pm=BAD_DATA),
         name="curve_pair", unchanged=foreign_pair_untouched),
    page("curve_unpair", "post", lambda w: (url("curve_unpair", uuid=eng(w), pk=w.pair.pk), {}), CHANGE,
         unchanged=exists("pair")),
    # Engagement A's URL with customer B's pair: that pair is not under A, for anyone. (For A's
    # contact the URL's engagement is in scope but internal, its pair out of scope: 403 or 404.)
    page("curve_unpair_foreign_pair", "post", lambda w: (url("curve_unpair", uuid=eng(w), pk=w.other_pair.pk), {}),
         expect(customer={403, 404}, customer_other=404, consultant=404, consultant_other=404, pm=404),
         name="curve_unpair", unchanged=foreign_pair_untouched),
    page("score_baseline", "post", lambda w: (url("score_baseline", uuid=eng(w)), {
        "dataset": "ceval", "score": "70.5", "mode": "relative", "direction": "higher"}), CHANGE),
    page("score_baseline_delete", "post", lambda w: (url("score_baseline_delete", uuid=eng(w),
                                                         pk=w.score_baseline.pk), {}), CHANGE,
         unchanged=exists("score_baseline")),
    page("performance_baseline", "post", lambda w: (url("performance_baseline", uuid=eng(w)), {
        "category": "inference", "metric": "first_token_ms", "unit": "ms", "direction": "lower", "value": "120",
        "required_fraction": "1.00"}), CHANGE),
    page("performance_baseline_delete", "post", lambda w: (url("performance_baseline_delete", uuid=eng(w),
                                                               pk=w.performance_baseline.pk), {}), CHANGE,
         unchanged=exists("performance_baseline")),
    page("model_acceptance", "post", lambda w: (url("model_acceptance", uuid=eng(w), model_uuid=w.migration_model.uuid),
                                                {f"m{w.migration_model.pk}-scope": "inference"}), CHANGE),
    page("findings_resolve", "post", lambda w: (url("findings_resolve", uuid=eng(w), pk=w.analysis.pk),
                                                {"resolution": "resolved"}), CHANGE),
    page("tuning_measure", "post", lambda w: (url("tuning_measure", uuid=w.stage.uuid), {
        "change": "Bigger batch", "direction": "higher"}), CHANGE),
    page("tuning_measure_delete", "post", lambda w: (url("tuning_measure_delete", uuid=w.tuning_measure.uuid), {}),
         CHANGE, unchanged=exists("tuning_measure")),

    # --- tuning/urls.py: tuning evidence --------------------------------------------------------
    page("tuning_evidence", "get", lambda w: (url("tuning_evidence", uuid=eng(w)), None), INTERNAL),
    page("accuracy_upload", "post", lambda w: (url("accuracy_upload", uuid=eng(w)), {}), CHANGE),
    page("profile_upload", "post", lambda w: (url("profile_upload", uuid=eng(w)), {}), CHANGE),
    page("profile_compare", "get", lambda w: (url("profile_compare", uuid=eng(w)), None), INTERNAL),
    page("service_config_upload", "post", lambda w: (url("service_config_upload", uuid=eng(w)), {}), CHANGE),
    page("benchmark_compare", "get", lambda w: (url("benchmark_compare", uuid=eng(w)), None), INTERNAL),
    page("atc_upload", "post", lambda w: (url("atc_upload", uuid=eng(w)), {}), CHANGE),
    page("accuracy_detail", "get", lambda w: (url("accuracy_detail", uuid=w.accuracy.uuid), None), INTERNAL),
    page("accuracy_delete", "post", lambda w: (url("accuracy_delete", uuid=w.accuracy.uuid), {}), CHANGE,
         unchanged=exists("accuracy")),
    page("profile_detail", "get", lambda w: (url("profile_detail", uuid=w.profile.uuid), None), INTERNAL),
    page("profile_delete", "post", lambda w: (url("profile_delete", uuid=w.profile.uuid), {}), CHANGE,
         unchanged=exists("profile")),
    page("service_config_detail", "get", lambda w: (url("service_config_detail", uuid=w.service_config.uuid), None),
         INTERNAL),
    page("service_config_delete", "post", lambda w: (url("service_config_delete", uuid=w.service_config.uuid), {}),
         CHANGE, unchanged=exists("service_config")),
    page("benchmark_config", "post", lambda w: (url("benchmark_config", pk=w.benchmark.pk), {}), CHANGE),
    page("atc_detail", "get", lambda w: (url("atc_detail", uuid=w.atc_conversion.uuid), None), INTERNAL),
    page("atc_delete", "post", lambda w: (url("atc_delete", uuid=w.atc_conversion.uuid), {}), CHANGE,
         unchanged=exists("atc_conversion")),
    page("measure_evidence", "post", lambda w: (url("measure_evidence", uuid=w.stage.uuid), {
        "change": "Fused attention", "figure": "profile_pair:step_time_ms"}), CHANGE),

    # --- reports/urls.py: quotes, planned vs actual, timesheets ---------------------------------
    page("quote_list", "get", lambda w: (url("quote_list"), None), LIST),
    page("quote_list_post", "post", lambda w: (url("quote_list"), {}), PM_LIST, name="quote_list"),
    page("quote_detail", "get", lambda w: (url("quote_detail", uuid=w.sent_quote.uuid), None), READ),
    page("quote_detail_draft", "get", lambda w: (url("quote_detail", uuid=w.draft_quote.uuid), None),
         hidden_from_customer(READ), name="quote_detail"),
    page("quote_detail_post", "post", lambda w: (url("quote_detail", uuid=w.draft_quote.uuid), EMPTY_FORMSETS),
         hidden_from_customer(MANAGE), name="quote_detail"),
    page("quote_send", "post", lambda w: (url("quote_send", uuid=w.draft_quote.uuid), {}),
         hidden_from_customer(MANAGE), unchanged=status_is("draft_quote", "draft")),
    page("quote_revise", "post", lambda w: (url("quote_revise", uuid=w.sent_quote.uuid), {}), MANAGE,
         unchanged=status_is("sent_quote", "sent")),
    page("quote_header", "post", lambda w: (url("quote_header", uuid=w.draft_quote.uuid), {
        "title": "Renamed", "tax_rate": "6", "valid_until": "", "notes": ""}), hidden_from_customer(MANAGE)),
    page("quote_accept", "post", lambda w: (url("quote_accept", uuid=w.sent_quote.uuid), {
        "name": "Li Na", "comment": "", "password": PASSWORD}), DECIDE, unchanged=status_is("sent_quote", "sent")),
    page("quote_reject", "post", lambda w: (url("quote_reject", uuid=w.sent_quote.uuid), {
        "name": "", "comment": "Too expensive", "password": PASSWORD}), DECIDE,
         unchanged=status_is("sent_quote", "sent")),
    page("quote_export", "get", lambda w: (url("quote_export", uuid=w.sent_quote.uuid, fmt="csv"), None), READ),
    page("quote_export_draft", "get", lambda w: (url("quote_export", uuid=w.draft_quote.uuid, fmt="csv"), None),
         hidden_from_customer(READ), name="quote_export"),
    page("quote_from_plan", "get", lambda w: (url("quote_from_plan", uuid=eng(w)), None), MANAGE),
    page("quote_from_plan_post", "post", lambda w: (url("quote_from_plan", uuid=eng(w)), {}), MANAGE,
         name="quote_from_plan"),
    page("quote_from_analysis", "post", lambda w: (url("quote_from_analysis", uuid=eng(w), pk=w.analysis.pk),
                                                   {"item": w.rate_item.pk}), MANAGE),
    page("engagement_economics", "get", lambda w: (url("engagement_economics", uuid=eng(w)), None), INTERNAL),
    page("timesheets", "get", lambda w: (url("timesheets"), None), STAFF_LIST),

    # --- reports/urls.py: acceptance reports ----------------------------------------------------
    page("engagement_reports", "get", lambda w: (url("engagement_reports", uuid=eng(w)), None), READ),
    page("acceptance_writeup", "post", lambda w: (url("acceptance_writeup", uuid=eng(w)), {
        "test_method": "C-Eval, 5-shot", "reference_environment": "8 x A100", "conclusions": "Accepted."}), CHANGE),
    page("engagement_reports_post", "post", lambda w: (url("engagement_reports", uuid=eng(w)), {"language": "en"}),
         CHANGE, name="engagement_reports"),
    page("version_detail", "get", lambda w: (url("version_detail", uuid=w.issued_version.uuid), None), READ),
    page("version_detail_draft", "get", lambda w: (url("version_detail", uuid=w.draft_version.uuid), None),
         hidden_from_customer(READ), name="version_detail"),
    page("version_detail_rendering", "get", lambda w: (url("version_detail", uuid=w.rendering_version.uuid), None),
         hidden_from_customer(READ), name="version_detail"),
    page("version_detail_failed", "get", lambda w: (url("version_detail", uuid=w.failed_version.uuid), None),
         hidden_from_customer(READ), name="version_detail"),
    page("version_preview", "get", lambda w: (url("version_preview", uuid=w.issued_version.uuid), None), READ),
    page("version_preview_draft", "get", lambda w: (url("version_preview", uuid=w.draft_version.uuid), None),
         hidden_from_customer(READ), name="version_preview"),
    page("version_page", "get", lambda w: (url("version_page", uuid=w.issued_version.uuid, number=1), None), READ),
    page("version_page_draft", "get", lambda w: (url("version_page", uuid=w.draft_version.uuid, number=1), None),
         hidden_from_customer(READ), name="version_page"),
    page("version_pdf", "get", lambda w: (url("version_pdf", uuid=w.issued_version.uuid), None), READ),
    page("version_pdf_draft", "get", lambda w: (url("version_pdf", uuid=w.draft_version.uuid), None),
         hidden_from_customer(READ), name="version_pdf"),
    page("signed_pdf", "get", lambda w: (url("signed_pdf", uuid=w.signed_version.uuid), None), READ),
    page("version_issue", "post", lambda w: (url("version_issue", uuid=w.draft_version.uuid), {}),
         hidden_from_customer(MANAGE), unchanged=status_is("draft_version", "draft")),
    page("version_sign", "post", lambda w: (url("version_sign", uuid=w.issued_version.uuid), SIGN_FORM), DECIDE,
         unchanged=status_is("issued_version", "issued")),
    page("version_reject", "post", lambda w: (url("version_reject", uuid=w.issued_version.uuid), REJECT_FORM),
         DECIDE, unchanged=status_is("issued_version", "issued")),
    # An assessment report is acknowledged by a contact (refused for now: they have not read it, 400).
    page("version_acknowledge", "post", lambda w: (url("version_acknowledge", uuid=w.issued_assessment.uuid), {}),
         DECIDE, unchanged=status_is("issued_assessment", "issued")),

    # --- config/api.py: the API ------------------------------------------------------------------
    api("customer-list", "get", lambda w: (url("customer-list"), None), LIST),
    api("engagement-copy", "post", lambda w: (url("engagement-copy", uuid=eng(w)), {
        "code": "COPY-1", "start_date": "2027-01-04", "end_date": "2027-03-31"}), MANAGE),
    api("customer-list_post", "post", lambda w: (url("customer-list"), {"name": "New Customer Ltd"}), PM_LIST,
        name="customer-list"),
    api("customer-invite", "post", lambda w: (url("customer-invite", uuid=w.customer_a.uuid),
                                              {"email": "new.contact@example.com"}),
        {**MANAGE, "customer_other": 404, "consultant_other": 404}),
    api("customer-detail", "get", lambda w: (url("customer-detail", uuid=w.engagement.customer.uuid), None), READ),
    api("engagement-list", "get", lambda w: (url("engagement-list"), None), LIST),
    api("engagement-list_post", "post", lambda w: (url("engagement-list"), {}), PM_LIST, name="engagement-list"),
    api("engagement-detail", "get", lambda w: (url("engagement-detail", uuid=eng(w)), None), READ),
    api("engagement-detail_patch", "patch", lambda w: (url("engagement-detail", uuid=eng(w)), {"title": "Renamed"}),
        MANAGE, name="engagement-detail"),
    api("migrationmodel-list", "get", lambda w: (url("migrationmodel-list"), None), LIST),
    api("migrationmodel-detail", "get", lambda w: (url("migrationmodel-detail", uuid=w.migration_model.uuid), None),
        READ),
    api("stage-list", "get", lambda w: (url("stage-list"), None), LIST),
    api("stage-detail", "get", lambda w: (url("stage-detail", uuid=w.stage.uuid), None), READ),
    api("stage-detail_patch", "patch", lambda w: (url("stage-detail", uuid=w.stage.uuid),
                                                  {"planned_person_days": "6.0"}), CHANGE, name="stage-detail"),
    api("stage-transition", "post", lambda w: (url("stage-transition", uuid=w.stage.uuid),
                                               {"to": "in_progress", "reason": ""}), CHANGE,
        unchanged=status_is("stage", "not_started")),
    api("stage-transitions", "get", lambda w: (url("stage-transitions", uuid=w.stage.uuid), None), READ),
    api("checklistitem-list", "get", lambda w: (url("checklistitem-list"), None), LIST),
    api("checklistitem-detail", "get", lambda w: (url("checklistitem-detail", uuid=w.checklist_item.uuid), None),
        READ),
    api("checklistitem-set-state", "post", lambda w: (url("checklistitem-set-state", uuid=w.checklist_item.uuid),
                                                      {"state": "done", "reason": ""}), CHANGE),
    api("worklog-list", "get", lambda w: (url("worklog-list"), None), STAFF_LIST),
    api("worklog-list_post", "post", lambda w: (url("worklog-list"), {}), STAFF_LIST, name="worklog-list"),
    api("worklog-detail", "get", lambda w: (url("worklog-detail", uuid=w.worklog.uuid), None), INTERNAL),
    # The policy: only the person who logged the work changes it (the assigned consultant here).
    api("worklog-detail_patch", "patch", lambda w: (url("worklog-detail", uuid=w.worklog.uuid),
                                                    {"summary": "Installed CANN 8"}),
        expect(customer=403, customer_other=404, consultant=OK, consultant_other=404, pm=403), name="worklog-detail"),
    api("worklog-detail_delete", "delete", lambda w: (url("worklog-detail", uuid=w.worklog.uuid), None), CHANGE,
        name="worklog-detail", unchanged=exists("worklog")),
    api("risk-list", "get", lambda w: (url("risk-list"), None), STAFF_LIST),
    api("risk-list_post", "post", lambda w: (url("risk-list"), {}), STAFF_LIST, name="risk-list"),
    api("risk-detail", "get", lambda w: (url("risk-detail", uuid=w.risk.uuid), None), INTERNAL),
    api("risk-detail_patch", "patch", lambda w: (url("risk-detail", uuid=w.risk.uuid), {"mitigation": "A mirror"}),
        CHANGE, name="risk-detail"),
    api("risk-detail_delete", "delete", lambda w: (url("risk-detail", uuid=w.risk.uuid), None), CHANGE,
        name="risk-detail", unchanged=exists("risk")),
    api("losscurve-list", "get", lambda w: (url("losscurve-list"), None), STAFF_LIST),
    api("losscurve-list_post", "post", lambda w: (url("losscurve-list"), {}), STAFF_LIST, name="losscurve-list",
        multipart=True),
    api("losscurve-detail", "get", lambda w: (url("losscurve-detail", uuid=w.curves[0].uuid), None), INTERNAL),
    api("accuracycomparison-list", "get", lambda w: (url("accuracycomparison-list"), None), STAFF_LIST),
    api("accuracycomparison-detail", "get", lambda w: (url("accuracycomparison-detail", uuid=w.accuracy.uuid), None),
        INTERNAL),
    api("accuracycomparison-rows", "get", lambda w: (url("accuracycomparison-rows", uuid=w.accuracy.uuid), None),
        INTERNAL),
    api("profile-list", "get", lambda w: (url("profile-list"), None), STAFF_LIST),
    api("profile-detail", "get", lambda w: (url("profile-detail", uuid=w.profile.uuid), None), INTERNAL),
    api("serviceconfig-list", "get", lambda w: (url("serviceconfig-list"), None), STAFF_LIST),
    api("serviceconfig-detail", "get", lambda w: (url("serviceconfig-detail", uuid=w.service_config.uuid), None),
        INTERNAL),
    api("atcconversion-list", "get", lambda w: (url("atcconversion-list"), None), STAFF_LIST),
    api("atcconversion-detail", "get", lambda w: (url("atcconversion-detail", uuid=w.atc_conversion.uuid), None),
        INTERNAL),
    api("job-list", "get", lambda w: (url("job-list"), None), STAFF_LIST),
    api("job-list_post", "post", lambda w: (url("job-list"), {}), STAFF_LIST, name="job-list"),
    api("job-detail", "get", lambda w: (url("job-detail", uuid=w.job.uuid), None), INTERNAL),
    api("job-cancel", "post", lambda w: (url("job-cancel", uuid=w.job.uuid), {}), CHANGE, unchanged=job_not_cancelled),
    api("reportversion-list", "get", lambda w: (url("reportversion-list"), None), LIST),
    api("reportversion-detail", "get", lambda w: (url("reportversion-detail", uuid=w.issued_version.uuid), None),
        READ),
    api("reportversion-detail_draft", "get", lambda w: (url("reportversion-detail", uuid=w.draft_version.uuid),
                                                        None), hidden_from_customer(READ), name="reportversion-detail"),
    api("reportversion-pdf", "get", lambda w: (url("reportversion-pdf", uuid=w.issued_version.uuid), None), READ),
    api("reportversion-pdf_draft", "get", lambda w: (url("reportversion-pdf", uuid=w.draft_version.uuid), None),
        hidden_from_customer(READ), name="reportversion-pdf"),
    api("reportversion-issue", "post", lambda w: (url("reportversion-issue", uuid=w.draft_version.uuid), {}),
        hidden_from_customer(MANAGE), unchanged=status_is("draft_version", "draft")),
    # An issued version is in the contact's scope: issuing it is refused (403), not hidden.
    api("reportversion-issue_issued", "post", lambda w: (url("reportversion-issue", uuid=w.issued_version.uuid), {}),
        MANAGE, name="reportversion-issue", unchanged=status_is("issued_version", "issued")),
    api("reportversion-sign-off", "post", lambda w: (url("reportversion-sign-off", uuid=w.issued_version.uuid), {
        "password": PASSWORD, "name": "Li Na", "title": "CTO", "confirm": True}), DECIDE,
        unchanged=status_is("issued_version", "issued")),
    api("reportversion-acknowledge", "post",
        lambda w: (url("reportversion-acknowledge", uuid=w.issued_assessment.uuid), {}), DECIDE,
        unchanged=status_is("issued_assessment", "issued")),
    api("reportversion-reject", "post", lambda w: (url("reportversion-reject", uuid=w.issued_version.uuid), {
        "password": PASSWORD, "comment": "The loss curve diverges."}), DECIDE,
        unchanged=status_is("issued_version", "issued")),
]

# URL patterns with no object and nothing of an engagement behind them.
EXCLUDED = {
    "login", "logout",  # signing in and out
    "set_language",  # the user's own language preference
    "set_password",  # an invited contact's one-time link: the token is the credential
    "api_token",  # exchanging a password for a token (the user's own)
    "schema", "api_docs", "api-root",  # the API's description, its docs page and the router's index of links
    "report_verify", "reportverify-list",  # verifying a PDF's hash: the answer is about the uploaded file
}


def _cases():
    seen = set()
    for row in ROWS:
        assert row.id not in seen, f"duplicate row id {row.id}"
        seen.add(row.id)
        assert set(row.expect) == set(ROLES) - {"anonymous"}, row.id
        for role in ROLES:
            yield pytest.param(row, role, id=f"{row.id}-{role}")


CASES = list(_cases())


# --- the tests -----------------------------------------------------------------------------------


def describe(expected) -> str:
    if isinstance(expected, (set, frozenset)):
        return " or ".join(str(s) for s in sorted(expected))
    if expected == OK:
        return "allowed (not 401/403/404, not 5xx)"
    if expected == BAD_DATA:
        return "400 or 404 (refused for its data)"
    return str(expected)


def send(client, row: Row, path: str, data):
    if row.api:
        headers = {"HTTP_ACCEPT": "application/json"}
        if row.method == "get":
            return client.get(path, **headers)
        if row.method == "delete":
            return client.delete(path, **headers)
        if row.multipart:
            return client.post(path, data or {}, **headers)
        return getattr(client, row.method)(path, json.dumps(data or {}), content_type="application/json", **headers)
    if row.method == "get":
        return client.get(path)
    return client.post(path, data or {})


def matches(expected, status: int) -> bool:
    if isinstance(expected, (set, frozenset)):
        return status in expected
    if expected == OK:
        return status < 500 and status not in (401, 403, 404)
    if expected == BAD_DATA:
        return status in (400, 404)
    return status == expected


@pytest.mark.django_db
@pytest.mark.parametrize("row,role", CASES)
def test_access(client, world, row, role):
    path, data = row.target(world)
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    try:
        response = send(client, row, path, data)
    except Exception as exc:  # the view raised: a 500
        raise AssertionError(f"{row.method.upper()} {path} as {role}: the view raised {exc!r} (a 500)") from exc
    status = response.status_code
    where = f"{row.method.upper()} {path} as {role}"

    if role == "anonymous":
        if row.api:
            assert status in (401, 403), f"{where}: got {status}, expected 401 or 403"
        else:
            login = resolve_url(django_settings.LOGIN_URL)
            location = response.get("Location", "")
            assert status == 302 and location.startswith(login), (
                f"{where}: got {status} {location!r}, expected a redirect to {login}")
        expected = 403  # refused: nothing may have changed
    else:
        expected = row.expect[role]
        assert matches(expected, status), f"{where}: got {status}, expected {describe(expected)}"

    if row.unchanged is not None and expected != OK:
        assert row.unchanged(world), f"{where}: refused with {status}, but the object changed"


def _names(patterns, skip_namespaces=("admin",)):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in skip_namespaces:
                continue
            yield from _names(pattern.url_patterns, skip_namespaces)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def test_every_url_has_a_row():
    """A new URL (page or API route) without a row in the table fails here."""
    import assessments.urls
    import config.api
    import config.urls
    import engagements.urls
    import inbox.urls
    import reports.urls
    import tuning.urls
    import workers.urls

    names = set()
    for module in (inbox.urls, engagements.urls, workers.urls, assessments.urls, tuning.urls, reports.urls, config.urls,
                   config.api):
        names |= set(_names(module.urlpatterns))
    covered = {row.name for row in ROWS}
    missing = sorted(names - covered - EXCLUDED)
    assert not missing, f"URL patterns with no row in the access matrix: {missing}"
    unknown = sorted((covered | EXCLUDED) - names)
    assert not unknown, f"Rows or exclusions naming no URL pattern: {unknown}"
