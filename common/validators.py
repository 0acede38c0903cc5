"""Limits shared by forms, the API and the services: one definition each, enforced by the
model (``full_clean``) or the service, so no door accepts what another refuses."""

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

# Dates of engagements, plans, quotes: anything outside is a typing mistake (0001-01-01, 9999-12-31).
EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)
DATE_BOUNDS = [
    MinValueValidator(EARLIEST, message=_("Enter a date from 2000-01-01 on.")),
    MaxValueValidator(LATEST, message=_("Enter a date up to 2100-12-31.")),
]
# Reasons and notes typed in a box: the forms' limit, for the API too.
REASON_MAX = 1000
