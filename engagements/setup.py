"""Setting up the work in the portal: customers, their contacts (invited by e-mail to set a
password), new engagements (blank or copied from an earlier one), and closing them.

Every change is audited; only a PM does these things (``CustomerPolicy.can_manage``,
``EngagementPolicy.can_manage``).
"""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from common import access

from . import audit, services
from .models import Customer, Engagement, MigrationModel, PerformanceBaseline, User

COPIED_FIELDS = ("customer", "title", "contract_number", "scope_training_migration", "scope_inference_migration",
                 "scope_tuning", "source_platform", "target_platform", "target_framework", "loss_mre_threshold",
                 "score_diff_threshold", "loss_warmup_steps", "test_method", "reference_environment")
COPIED_MODEL_FIELDS = ("name", "task_type", "size", "source_repository", "scope", "precision", "source_framework",
                       "source_hardware", "target_framework", "target_framework_version", "parameter_config",
                       "weights", "datasets", "inference_route")


def check_create_customer(user, fields: dict) -> Customer:
    access.require(user, "manage", Customer, _("Only a project manager can add customers."))
    customer = Customer(name=(fields.get("name") or "").strip(), short_name=(fields.get("short_name") or "").strip())
    customer.full_clean()
    with transaction.atomic():
        customer.save()
        audit.record(user, customer, audit.CREATE, changes=audit.snapshot(customer))
    return customer


def check_invite_contact(user, customer: Customer, fields: dict) -> User:
    """A customer contact with no password yet, and an e-mail with a one-time link to set one
    (the link stops working once a password is set: the token is made from the password hash)."""
    access.require(user, "manage", customer)
    email = (fields.get("email") or "").strip().lower()
    contact = User(username=email, email=email, role=User.Role.CUSTOMER, customer=customer,
                   first_name=(fields.get("first_name") or "").strip(),
                   last_name=(fields.get("last_name") or "").strip(), language=fields.get("language") or "")
    if not email:
        raise ValidationError({"email": [_("An e-mail address is needed to invite a contact.")]})
    if User.objects.filter(username__iexact=email).exists() or User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": [_("Someone with this e-mail address already has an account.")]})
    contact.set_unusable_password()
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        audit.record(user, contact, audit.CREATE, changes={"customer": [None, str(customer)], "email": [None, email]})
        transaction.on_commit(lambda: send_invitation(contact))
    return contact


def set_password_path(contact: User) -> str:
    return reverse("set_password", args=[urlsafe_base64_encode(force_bytes(contact.pk)),
                                         default_token_generator.make_token(contact)])


def send_invitation(contact: User) -> None:
    with translation.override(contact.language or settings.LANGUAGE_CODE):
        send_mail(
            _("You are invited to the Ascend migration portal of %(customer)s") % {"customer": contact.customer},
            _("Set your password with this link (it works once), then sign in with your e-mail address:")
            + f"\n\n{settings.PORTAL_URL}{set_password_path(contact)}\n\n"
            + _("In the portal you read and sign off reports, accept quotes and fill in the model questionnaire."),
            settings.DEFAULT_FROM_EMAIL, [contact.email])


def check_resend_invitation(user, contact: User) -> None:
    access.require(user, "manage", contact.customer)
    if contact.has_usable_password():
        raise ValidationError(_("%(name)s has set a password already.") % {"name": contact})
    send_invitation(contact)


def copy_fields(source: Engagement) -> dict:
    """The terms of an earlier engagement, for the form of a new one (dates and code are new)."""
    return {name: getattr(source, name) for name in COPIED_FIELDS}


@transaction.atomic
def check_copy_engagement(user, source: Engagement, fields: dict, consultants=None) -> Engagement:
    """A new engagement from ``fields``, with the models, the stage plan's person-days and the
    performance baselines of ``source`` copied over."""
    access.require(user, "view", source)
    engagement = services.check_create_engagement(
        user, fields, consultants if consultants is not None else list(source.consultants.all()))
    models = {}
    for model in source.migration_models.all():
        models[model.pk] = MigrationModel.objects.create(
            engagement=engagement, **{name: getattr(model, name) for name in COPIED_MODEL_FIELDS})
    planned = dict(source.stages.values_list("key", "planned_person_days"))
    for stage in engagement.stages.all():
        if planned.get(stage.key):
            services.check_plan_stage(user, stage, {"planned_person_days": planned[stage.key]})
    for baseline in source.baselines.all():
        PerformanceBaseline.objects.create(
            engagement=engagement, model=models.get(baseline.model_id), category=baseline.category,
            metric=baseline.metric, direction=baseline.direction, value=baseline.value, unit=baseline.unit,
            required_fraction=baseline.required_fraction)
    audit.record(user, engagement, audit.UPDATE, engagement=engagement,
                 changes={"copied_from": [None, source.code]})
    return engagement


def check_close_engagement(user, engagement: Engagement) -> Engagement:
    """Close (archive) an engagement: it leaves the default lists and the inbox; nothing is deleted."""
    access.require(user, "manage", engagement)
    if engagement.status == Engagement.Status.CLOSED:
        raise ValidationError(_("This engagement is closed already."))
    return services.check_update_engagement(user, engagement, {"status": Engagement.Status.CLOSED})
