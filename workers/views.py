"""Hosts and jobs in the browser: register a host and confirm its key, test it, run jobs from
a stage, watch the live log, cancel. Views parse input and call ``workers.jobs``."""

import copy
import uuid as uuid_module

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from common import access
from common.forms import apply_errors
from engagements.models import Customer, Stage

from . import job_templates, jobs, kinds
from .models import AscendHost, Job, JobTemplate
from .runner import local_log_path, read_tail
from .snapshots import diff_snapshots


class HostForm(forms.ModelForm):
    """A host and its secret: a private key (pasted) or a password (typed, never shown)."""

    private_key = forms.CharField(
        label=gettext_lazy("Private key"), required=False,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("For key logins. Stored encrypted and never shown again."),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("For password logins. Stored encrypted and never shown again."),
    )

    class Meta:
        model = AscendHost
        fields = ["customer", "name", "address", "port", "username", "auth_method", "ascend_home", "tool_path",
                  "work_root"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if "customer" in self.fields:
            self.fields["customer"].queryset = access.scope(user, Customer)

    def secret_field(self) -> str:
        method = self.cleaned_data.get("auth_method") or (self.instance.auth_method if self.instance.pk else "")
        return "password" if method == AscendHost.AuthMethod.PASSWORD else "private_key"

    @property
    def secret(self) -> str:
        """The secret of the chosen login method (whether one is needed is the service's call)."""
        return self.cleaned_data.get(self.secret_field(), "")

    def host_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def add_service_errors(self, exc: ValidationError) -> None:
        """The service's errors next to their fields; the secret's on the box it was typed in."""
        if hasattr(exc, "error_dict") and "secret" in exc.error_dict:
            exc.error_dict[self.secret_field()] = exc.error_dict.pop("secret")
        apply_errors(self, exc)

    def blank_secrets(self) -> None:
        """A secret is never sent back to the browser, even after an error."""
        if self.is_bound:
            self.data = self.data.copy()
            self.data["private_key"] = self.data["password"] = ""


class HostEditForm(HostForm):
    """The same fields but the customer; a blank secret keeps the stored one."""

    class Meta(HostForm.Meta):
        fields = [name for name in HostForm.Meta.fields if name != "customer"]


class JobForm(forms.Form):
    """A job of one kind: its host, then the fields that kind declares (and only those)."""

    kind = forms.ChoiceField(label=gettext_lazy("Job"), choices=kinds.choices)
    host = forms.ModelChoiceField(label=gettext_lazy("Host"), queryset=AscendHost.objects.none())
    # Only for "Save as template" (starting a job ignores it).
    template_name = forms.CharField(
        label=gettext_lazy("Template name"), required=False, max_length=100,
        help_text=gettext_lazy("To keep these settings as a template of the engagement: name it, then save."))

    # Not the kind's parameters: the job form's own fields.
    OWN_FIELDS = ("kind", "host", "model", "template_name")

    def __init__(self, *args, stage: Stage, kind: str, reload_url: str = "", name_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template_name"].required = name_required
        job_kind = kinds.get(kind)
        if job_kind.per_model:
            self.fields["model"] = forms.ModelChoiceField(
                label=gettext_lazy("Model under migration"), required=False,
                queryset=stage.engagement.migration_models.all(),
                help_text=gettext_lazy("The model whose acceptance evidence this job produces."))
        self.fields.update(copy.deepcopy(job_kind.fields))
        self.fields["kind"].initial = kind
        # Choosing another kind reloads the form with that kind's fields (what was typed stays).
        self.fields["kind"].widget.attrs.update({
            "hx-get": reload_url or reverse("stage_jobs", args=[stage.uuid]), "hx-target": "#job-form",
            "hx-select": "#job-form", "hx-swap": "outerHTML", "hx-include": "closest form",
            "hx-sync": "closest form:replace"})
        hosts = AscendHost.objects.filter(customer_id=stage.engagement.customer_id)
        self.fields["host"].queryset = hosts
        if len(hosts) == 1:  # the usual case: the customer's one host, chosen already
            self.fields["host"].initial = hosts[0].pk
        elif not hosts:
            self.fields["host"].help_text = _("This customer has no registered host yet: register one under Hosts.")

    @staticmethod
    def chosen_kind(request, default: str = "") -> str:
        """The kind asked for (posted, or picked in the form before it is posted); else ``default``,
        else the first."""
        keys = [key for key, _label in kinds.choices()]
        asked = request.POST.get("kind") or request.GET.get("kind") or default
        return asked if asked in keys else keys[0]

    def job_values(self) -> tuple[AscendHost, str, object, dict]:
        """(host, kind, model, the kind's parameters) of a valid form."""
        data = dict(self.cleaned_data)
        host, kind, model = data.pop("host"), data.pop("kind"), data.pop("model", None)
        data.pop("template_name", None)
        return host, kind, model, data


def _visible_host(request, uuid, action: str = "view") -> AscendHost:
    """A host in scope (404 otherwise) that the user may ``action`` (403 otherwise)."""
    host = access.get_or_404(request.user, AscendHost, related=("customer",), uuid=uuid)
    access.require(request.user, action, host)
    return host


def _visible_job(request, uuid) -> Job:
    """A job in scope (404 otherwise) that the user may read (403 otherwise)."""
    job = access.get_or_404(request.user, Job, related=("host", "stage", "engagement", "started_by"), uuid=uuid)
    access.require(request.user, "view", job)
    return job


@login_required
def host_list(request):
    if not access.can_list(request.user, AscendHost):
        raise PermissionDenied(_("Hosts are internal to the service provider."))
    form = HostForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            host = jobs.check_register_host(request.user, form.host_fields(), form.secret)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("host_detail", uuid=host.uuid)
    form.blank_secrets()
    hosts = access.scope(request.user, AscendHost).select_related("customer")
    return render(request, "workers/host_list.html", {"hosts": hosts, "form": form},
                  status=400 if form.is_bound else 200)


@login_required
def host_detail(request, uuid):
    host = _visible_host(request, uuid)
    presented, fetch_error = None, None
    if not host.host_key_pinned or request.GET.get("refetch"):
        try:
            presented = jobs.fetch_key_for_confirmation(host)
        except ValidationError as exc:
            fetch_error = " ".join(exc.messages)
    snapshots = list(host.snapshots.select_related("job")[:2])
    changes = diff_snapshots(snapshots[1].data, snapshots[0].data) if len(snapshots) == 2 else {}
    return render(request, "workers/host_detail.html", {
        "host": host,
        "presented": presented,
        "fetch_error": fetch_error,
        "snapshot": snapshots[0] if snapshots else None,
        "changes": changes,
        "jobs": host.jobs.select_related("stage", "engagement")[:20],
    })


@login_required
def host_edit(request, uuid):
    host = _visible_host(request, uuid, "change")
    form = HostEditForm(request.POST or None, instance=AscendHost.objects.get(pk=host.pk), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            updated = jobs.check_update_host(request.user, host, form.host_fields(), form.secret)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if updated.host_key_pinned:
                messages.success(request, _("The host is saved."))
            else:
                messages.warning(request, _("The address changed: confirm the key this host presents before "
                                            "running jobs on it."))
            return redirect("host_detail", uuid=host.uuid)
    form.blank_secrets()
    return render(request, "workers/host_edit.html", {"host": host, "form": form},
                  status=400 if form.is_bound else 200)


@login_required
@require_POST
def host_pin_key(request, uuid):
    host = _visible_host(request, uuid, "change")
    try:
        jobs.check_pin_host_key(request.user, host, request.POST.get("key_type", ""),
                                request.POST.get("key_base64", ""), request.POST.get("fingerprint", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The host key is pinned; connections with any other key will be refused."))
    return redirect("host_detail", uuid=host.uuid)


@login_required
@require_POST
def host_test(request, uuid):
    host = _visible_host(request, uuid, "change")
    check = jobs.check_connection(host)
    if check["ok"]:
        messages.success(request, _("Connected in %(ms)s ms · %(os)s · npu-smi %(npu)s") % {
            "ms": check["latency_ms"], "os": check["os"], "npu": _("present") if check["npu_smi"] else _("missing")})
    else:
        messages.error(request, host.last_check_message)
    return redirect("host_detail", uuid=host.uuid)


@login_required
def stage_jobs(request, uuid):
    stage = access.get_or_404(request.user, Stage, related=("engagement",), uuid=uuid)
    access.require(request.user, "view_internal", stage.engagement, _("Jobs are internal to the service provider."))
    initial, source = request.GET.dict(), None
    if request.method == "GET" and request.GET.get("from_job"):
        # "Run again": the form prefilled with a job's kind, host, model and parameters.
        try:
            source = _visible_job(request, uuid_module.UUID(request.GET["from_job"]))
        except ValueError:
            raise Http404 from None
        if source.engagement_id != stage.engagement_id:
            raise Http404
        initial = {**job_templates.rerun_initial(source), **{k: v for k, v in initial.items() if k != "from_job"}}
    kind = JobForm.chosen_kind(request, initial.get("kind", ""))
    form = JobForm(request.POST or None, stage=stage, kind=kind, initial=initial,
                   name_required=request.POST.get("action") == "save_template")
    if request.method == "POST" and form.is_valid():
        host, kind, model, params = form.job_values()
        try:
            if request.POST.get("action") == "save_template":
                template = job_templates.check_save_template(
                    request.user, stage, name=form.cleaned_data["template_name"], host=host, kind=kind, params=params,
                    model=model)
            else:
                job = jobs.check_start_job(request.user, stage, host, kind, params, model=model)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if request.POST.get("action") == "save_template":
                messages.success(request, _("The template “%(name)s” is saved.") % {"name": template.name})
                return redirect(reverse("stage_jobs", args=[stage.uuid]) + "#job-templates")
            return redirect("job_detail", uuid=job.uuid)
    return render(request, "workers/stage_jobs.html", {
        "stage": stage, "engagement": stage.engagement, "form": form, "kind": kind, "source": source,
        "jobs": stage.jobs.select_related("host", "started_by")[:50],
        "templates": _templates_of(request, stage.engagement),
        "may_run": access.can(request.user, "change", stage.engagement),
    }, status=400 if form.is_bound else 200)


def _templates_of(request, engagement):
    return access.scope(request.user, JobTemplate).filter(engagement=engagement).select_related(
        "host", "stage", "model", "created_by")


def _visible_template(request, uuid, action: str = "view") -> JobTemplate:
    """A job template in scope (404 otherwise) that the user may ``action`` (403 otherwise)."""
    template = access.get_or_404(request.user, JobTemplate, related=("stage", "engagement", "host"), uuid=uuid)
    access.require(request.user, action, template)
    return template


@login_required
def job_template_edit(request, uuid):
    template = _visible_template(request, uuid, "view" if request.method == "GET" else "change")
    stage = template.stage
    edit_url = reverse("job_template_edit", args=[template.uuid])
    kind = JobForm.chosen_kind(request, template.kind)
    initial = {**job_templates.template_initial(template), **request.GET.dict()}
    form = JobForm(request.POST or None, stage=stage, kind=kind, initial=initial, reload_url=edit_url,
                   name_required=True)
    if request.method == "POST" and form.is_valid():
        host, kind, model, params = form.job_values()
        try:
            job_templates.check_update_template(request.user, template, name=form.cleaned_data["template_name"],
                                                host=host, kind=kind, params=params, model=model)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The template is saved."))
            return redirect(reverse("stage_jobs", args=[stage.uuid]) + "#job-templates")
    return render(request, "workers/job_template_edit.html", {
        "template": template, "stage": stage, "engagement": template.engagement, "form": form, "kind": kind,
        "may_run": access.can(request.user, "change", template),
    }, status=400 if form.is_bound else 200)


@login_required
@require_POST
def job_template_launch(request, uuid):
    template = _visible_template(request, uuid, "change")
    try:
        job = job_templates.check_launch_template(request.user, template)
    except ValidationError as exc:
        messages.error(request, _("The template “%(name)s” cannot start: %(errors)s") % {
            "name": template.name, "errors": " ".join(exc.messages)})
        return redirect(reverse("stage_jobs", args=[template.stage.uuid]) + "#job-templates")
    return redirect("job_detail", uuid=job.uuid)


@login_required
@require_POST
def job_template_delete(request, uuid):
    template = _visible_template(request, uuid, "change")
    job_templates.check_delete_template(request.user, template)
    messages.success(request, _("The template “%(name)s” is deleted.") % {"name": template.name})
    return redirect(reverse("stage_jobs", args=[template.stage.uuid]) + "#job-templates")


@login_required
@require_POST
def job_save_template(request, uuid):
    job = _visible_job(request, uuid)
    access.require(request.user, "change", job.engagement, _("You can view this engagement but not run jobs for it."))
    try:
        template = job_templates.check_save_template_from_job(request.user, job, request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("job_detail", uuid=job.uuid)
    messages.success(request, _("The template “%(name)s” is saved.") % {"name": template.name})
    return redirect(reverse("stage_jobs", args=[job.stage.uuid]) + "#job-templates")


@login_required
def job_detail(request, uuid):
    job = _visible_job(request, uuid)
    return render(request, "workers/job_detail.html", {
        "job": job, "tail": _tail(job), "may_run": access.can(request.user, "change", job.engagement),
        # The live chart's choice of reference curve rides along on every poll of the live fragment.
        "live_query": request.GET.urlencode(),
    })


def _tail(job: Job) -> str:
    tail = job.output_tail if job.output_tail or not job.is_final else read_tail(local_log_path(job))
    # The wrapper's section lines read as headings (the download keeps them).
    return tail.replace(kinds.SECTION_MARK, "── ")


@login_required
def job_live(request, uuid):
    """The htmx fragment polled every 2 s; polling stops (HTTP 286) once the job has ended."""
    job = _visible_job(request, uuid)
    response = render(request, "workers/partials/job_live.html", {
        "job": job, "tail": _tail(job), "may_run": access.can(request.user, "change", job.engagement)})
    if job.is_final:
        stop = HttpResponseStopPolling(response.content)
        return stop
    return response


@login_required
def job_log(request, uuid):
    job = _visible_job(request, uuid)
    path = local_log_path(job)
    if not path.exists():
        raise Http404
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=f"job-{job.uuid}.log",
                            content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def job_cancel(request, uuid):
    job = _visible_job(request, uuid)
    try:
        jobs.check_cancel_job(request.user, job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Cancelling: the remote process group is being stopped."))
    return redirect("job_detail", uuid=job.uuid)
