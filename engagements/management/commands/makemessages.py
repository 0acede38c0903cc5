"""makemessages that also extracts ``N_("...")``: the portal's alias of ``gettext_noop`` for
messages made in a worker and translated when someone reads them (see workers/errors.py)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
