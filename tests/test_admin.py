"""The admin covers every model of the portal's apps, and each list page opens."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from reports.models import RateCardItem

pytestmark = pytest.mark.django_db
APPS = ("engagements", "assessments", "tuning", "reports", "workers", "inbox")


def test_every_model_is_in_the_admin_and_its_list_opens(client, django_user_model, acceptance_ready):
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "correct-horse-battery", role="pm")
    client.force_login(boss)
    inline = {i.model for model_admin in admin.site._registry.values() for i in model_admin.inlines}
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            assert model in admin.site._registry or model in inline, model
            if model in admin.site._registry:
                url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
                assert client.get(url).status_code == 200, url


def test_a_rate_card_item_in_use_is_not_deleted_from_the_admin(client, django_user_model, pm, customer_a, rate_card):
    from reports import quotes

    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "correct-horse-battery", role="pm",
                                                      language="en")
    item = RateCardItem.objects.get(code="survey-assessment")
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    quotes.check_set_lines(pm, quote, [{"item": item, "person_days": "1"}])
    client.force_login(boss)
    response = client.post(reverse("admin:reports_ratecarditem_delete", args=[item.pk]), {"post": "yes"}, follow=True)
    assert RateCardItem.objects.filter(pk=item.pk).exists()
    assert "Cannot delete" in response.content.decode()  # the admin names the quote line that uses it
