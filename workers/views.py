"""Hosts and jobs in the browser: register a host and confirm its key, test it, run jobs from
a stage, watch the live log, cancel. Views parse input and call ``workers.jobs``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from engagements.forms import apply_errors
from engagements.models import Customer, Engagement, Stage

from . import jobs
from .kinds import PROBE_MARK
from .models import AscendHost, Job
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
            self.fields["customer"].queryset = Customer.objects.filter(
                engagements__in=Engagement.objects.visible_to(user)
            ).distinct()

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
    kind = forms.ChoiceField(label=gettext_lazy("Job"), choices=Job.Kind.choices)
    host = forms.ModelChoiceField(label=gettext_lazy("Host"), queryset=AscendHost.objects.none())
    command = forms.CharField(label=gettext_lazy("Command"), required=False,
                              help_text=gettext_lazy("Training, benchmark or evaluation command."))
    workdir = forms.CharField(label=gettext_lazy("Working directory"), required=False)
    code_dir = forms.CharField(label=gettext_lazy("Code directory (migration analysis)"), required=False)
    loss_pattern = forms.CharField(label=gettext_lazy("Loss pattern (regular expression)"), required=False)
    score_pattern = forms.CharField(label=gettext_lazy("Score pattern (regular expression)"), required=False)
    score_key = forms.CharField(label=gettext_lazy("Score JSON key"), required=False)
    dataset = forms.CharField(label=gettext_lazy("Data set (evaluation)"), required=False)
    timeout_s = forms.IntegerField(label=gettext_lazy("Time limit (s)"), initial=3600, min_value=1)

    def __init__(self, *args, stage: Stage, **kwargs):
        super().__init__(*args, **kwargs)
        hosts = AscendHost.objects.filter(customer_id=stage.engagement.customer_id)
        self.fields["host"].queryset = hosts
        if len(hosts) == 1:  # the usual case: the customer's one host, chosen already
            self.fields["host"].initial = hosts[0].pk
        elif not hosts:
            self.fields["host"].help_text = _("This customer has no registered host yet: register one under Hosts.")


def _visible_host(request, uuid) -> AscendHost:
    return get_object_or_404(AscendHost.objects.visible_to(request.user).select_related("customer"), uuid=uuid)


def _visible_job(request, uuid) -> Job:
    return get_object_or_404(
        Job.objects.filter(engagement__in=Engagement.objects.visible_to(request.user))
        .select_related("host", "stage", "engagement", "started_by"),
        uuid=uuid,
    )


@login_required
def host_list(request):
    if not request.user.is_provider_staff:
        raise Http404
    form = HostForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            host = jobs.check_register_host(request.user, form.host_fields(), form.secret)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("host_detail", uuid=host.uuid)
    form.blank_secrets()
    hosts = AscendHost.objects.visible_to(request.user).select_related("customer")
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
    host = _visible_host(request, uuid)
    jobs.require_host_admin(request.user, host.customer)
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
    host = _visible_host(request, uuid)
    try:
        jobs.check_pin_host_key(request.user, host, request.POST.get("key_type", ""), request.POST.get("key_base64", ""),
                                request.POST.get("fingerprint", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The host key is pinned; connections with any other key will be refused."))
    return redirect("host_detail", uuid=host.uuid)


@login_required
@require_POST
def host_test(request, uuid):
    host = _visible_host(request, uuid)
    jobs.require_host_admin(request.user, host.customer)
    check = jobs.check_connection(host)
    if check["ok"]:
        messages.success(request, _("Connected in %(ms)s ms · %(os)s · npu-smi %(npu)s") % {
            "ms": check["latency_ms"], "os": check["os"], "npu": _("present") if check["npu_smi"] else _("missing")})
    else:
        messages.error(request, host.last_check_message)
    return redirect("host_detail", uuid=host.uuid)


@login_required
def stage_jobs(request, uuid):
    stage = get_object_or_404(Stage.objects.visible_to(request.user).select_related("engagement"), uuid=uuid)
    if not request.user.is_provider_staff:
        raise PermissionDenied(_("Jobs are internal to the service provider."))
    form = JobForm(request.POST or None, stage=stage)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        host, kind = data.pop("host"), data.pop("kind")
        try:
            job = jobs.check_start_job(request.user, stage, host, kind, data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect("job_detail", uuid=job.uuid)
    return render(request, "workers/stage_jobs.html", {
        "stage": stage, "engagement": stage.engagement, "form": form,
        "jobs": stage.jobs.select_related("host", "started_by")[:50],
    }, status=400 if form.is_bound else 200)


@login_required
def job_detail(request, uuid):
    job = _visible_job(request, uuid)
    if not request.user.is_provider_staff:
        raise Http404
    return render(request, "workers/job_detail.html", {"job": job, "tail": _tail(job)})


def _tail(job: Job) -> str:
    tail = job.output_tail if job.output_tail or not job.is_final else read_tail(local_log_path(job))
    return tail.replace(PROBE_MARK, "── ")  # the wrapper's section lines read as headings (the download keeps them)


@login_required
def job_live(request, uuid):
    """The htmx fragment polled every 2 s; polling stops (HTTP 286) once the job has ended."""
    job = _visible_job(request, uuid)
    if not request.user.is_provider_staff:
        raise Http404
    response = render(request, "workers/partials/job_live.html", {"job": job, "tail": _tail(job)})
    if job.is_final:
        stop = HttpResponseStopPolling(response.content)
        return stop
    return response


@login_required
def job_log(request, uuid):
    job = _visible_job(request, uuid)
    if not request.user.is_provider_staff:
        raise Http404
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
