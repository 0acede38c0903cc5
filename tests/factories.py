"""One factory per model; related objects are passed in explicitly by the tests."""

import datetime
from decimal import Decimal

import factory

from engagements import services
from engagements.models import Customer, Engagement, MigrationModel, Risk, User

PASSWORD = "correct-horse-battery"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} 客户{n}")
    short_name = factory.Sequence(lambda n: f"c{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.CONSULTANT
    language = "en"  # the tests assert English messages; the portal's default is Chinese
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_engagement(pm: User, customer: Customer, consultants=(), **overrides) -> Engagement:
    """An engagement created the way the portal creates them: with stages and checklists."""
    n = Engagement.objects.count() + 1
    fields = {
        "customer": customer,
        "code": f"ENG-{n:04d}",
        "title": f"Engagement {n}",
        "source_platform": "8 x A100",
        "target_platform": "Atlas 800T A2, 8 x 910B",
        "target_framework": Engagement.Framework.PYTORCH,
        "start_date": datetime.date(2026, 1, 5),
        "end_date": datetime.date(2026, 6, 30),
        "pm": pm,
        "internal_notes": "INTERNAL-NOTE-DO-NOT-SHOW",
    }
    fields.update(overrides)
    return services.check_create_engagement(pm, fields, consultants=list(consultants))


class MigrationModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MigrationModel

    name = factory.Sequence(lambda n: f"model-{n}")
    task_type = MigrationModel.TaskType.CV
    size = "46 MB"


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk

    category = Risk.Category.NETWORK
    description = "No internet on the hosts"
    likelihood = Risk.Level.MEDIUM
    impact = Risk.Level.HIGH


ZERO = Decimal("0")
