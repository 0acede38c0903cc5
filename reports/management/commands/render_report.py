"""``python manage.py render_report CODE [--language zh-hans|en] [--output FILE]``: render a new
draft version of an engagement's acceptance report now, in this process (for scripts and CI).

It prints each model's verdict and the overall verdict, and exits 0 when the version
rendered, whatever the verdict; non-zero when the render failed or the input is wrong."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from assessments.templatetags.assessments import verdict
from engagements.models import Engagement, User
from reports import services
from reports.models import ReportVersion


class Command(BaseCommand):
    help = "Render a new draft version of an engagement's acceptance report synchronously."

    def add_arguments(self, parser):
        parser.add_argument("code", help="The engagement's code, e.g. GRID-2026-001.")
        parser.add_argument("--language", default="zh-hans", choices=ReportVersion.Language.values)
        parser.add_argument("--kind", default=ReportVersion.Kind.ACCEPTANCE, choices=ReportVersion.Kind.values,
                            help="Which report: the acceptance test report (default) or the migration assessment.")
        parser.add_argument("--output", help="Also write the PDF to this file.")
        parser.add_argument("--as-user", default=None,
                            help="Who requests the render (default: the engagement's PM).")

    def handle(self, *args, code, language, kind, output, as_user, **options):
        engagement = Engagement.objects.filter(code=code).select_related("pm").first()
        if engagement is None:
            raise CommandError(f"No engagement with the code {code!r}.", returncode=2)
        user = engagement.pm if as_user is None else User.objects.filter(username=as_user).first()
        if user is None:
            raise CommandError(f"No user {as_user!r}.", returncode=2)
        # Rendered here, now: the version is created without sending it to a worker.
        version = services.render_version(
            services.check_request_render(user, engagement, language, kind=kind, enqueue=False).pk)
        if version.status != ReportVersion.Status.DRAFT:
            self.stderr.write(f"v{version.number}: the render failed: {version.failure}")
            raise SystemExit(1)
        with translation.override(language):
            if kind == ReportVersion.Kind.ASSESSMENT:
                self.stdout.write(f"{engagement.code} assessment v{version.number}: rendered")
            for model in version.data.get("models", []) if kind == ReportVersion.Kind.ACCEPTANCE else []:
                self.stdout.write(f"{model['name']}: {verdict(model['verdict'])}")
            if kind == ReportVersion.Kind.ACCEPTANCE:
                for model in version.data["excluded"]:
                    self.stdout.write(f"{model['name']}: {verdict('excluded')} ({model['reason']})")
                self.stdout.write(f"{engagement.code} v{version.number}: {verdict(version.data['overall'])}")
        if output:
            Path(output).write_bytes(bytes(version.pdf))
            self.stdout.write(f"PDF: {output} ({len(version.pdf)} bytes, SHA-256 {version.sha256})")
