"""``python manage.py reauth_unlock USERNAME [--by ADMIN]``: lift a user's lockout from confirming
decisions with their password (``reports.reauth``), before the window passes. Recorded as a
``ReauthEvent`` (``unlocked``), with the administrator when ``--by`` names one."""

from django.core.management.base import BaseCommand, CommandError

from engagements.models import User
from reports import reauth


class Command(BaseCommand):
    help = "Unlock a user's password re-checks at sign-off and quote decisions."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--by", default=None, help="The administrator's username, recorded with the unlock.")

    def handle(self, *args, username, by, **options):
        user = User.objects.filter(username=username).first()
        actor = User.objects.filter(username=by).first() if by else None
        if user is None or (by and actor is None):
            raise CommandError(f"No user {by if user else username!r}.")
        was_locked = reauth.unlock(user, actor)
        self.stdout.write(f"{username}: {'unlocked' if was_locked else 'was not locked; failures cleared'}.")
