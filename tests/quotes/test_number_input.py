"""Numbers typed into a quote that are not numbers a quote can hold (1e309, NaN, Infinity,
huge or tiny exponents) are a field error, never a 500, and change nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import money, quotes
from reports.models import Quote, RateCardItem

BAD = ["1e309", "-1e309", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e999999999", "9" * 400,
       "1e-999999999"]

# Anything a person may type for a number: decimal strings of every shape, and some noise.
decimal_strings = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"\A[+-]?(\d{0,40}(\.\d{0,40})?|[Ii]nf(inity)?|s?NaN\d{0,3})([eE][+-]?\d{1,12})?\Z"),
    st.sampled_from(BAD),
    st.text(max_size=20),
)


def _money_call(name, a, b, c, d):
    calls = {
        "to_decimal": lambda: money.to_decimal(a),
        "fen": lambda: money.fen(a),
        "yuan": lambda: money.yuan(a),
        "service_line": lambda: money.service_line(a, b, c),
        "cloud_line": lambda: money.cloud_line(a, b),
        "totals": lambda: money.totals([a, b], [c], d),
    }
    return calls[name]()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["to_decimal", "fen", "yuan", "service_line", "cloud_line", "totals"]),
       decimal_strings, decimal_strings, decimal_strings, decimal_strings)
def test_money_raises_nothing_but_its_validation_error(name, a, b, c, d):
    try:
        result = _money_call(name, a, b, c, d)
    except money.MoneyError as exc:
        assert isinstance(exc, ValidationError) and exc.messages
        return
    if name in ("fen", "service_line", "cloud_line"):
        assert result == result.quantize(Decimal("0.01")) and abs(result) < money.LIMIT
    if name == "totals":
        assert result.total == result.services + result.tax + result.cloud


def test_money_error_is_a_validation_error_and_a_value_error():
    with pytest.raises(ValidationError):
        money.service_line("1e309", "1e309")
    with pytest.raises(ValueError):
        money.cloud_line("NaN", 1)


def item():
    return RateCardItem.objects.get(code="survey-assessment")


@pytest.fixture
def draft(db, pm, customer_a):
    quote = quotes.check_create_quote(pm, customer=customer_a, title="Q")
    quotes.check_set_lines(pm, quote, [{"item": item(), "person_days": "2"}],
                           [{"resource": "BMS", "monthly_cost": "100", "quantity": "1", "months": "1"}])
    return quote


def _unchanged(quote):
    return (list(quote.lines.values_list("person_days", "rate", "discount")),
            list(quote.cloud_lines.values_list("quantity", "monthly_cost", "months")))


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("field", ["person_days", "rate", "discount"])
def test_a_bad_number_on_a_service_line_is_a_field_error(pm, draft, field, value):
    before = _unchanged(draft)
    line = {"item": item(), "person_days": "1", field: value}
    with pytest.raises(ValidationError) as exc:
        quotes.check_set_lines(pm, draft, [line])
    assert set(exc.value.message_dict) == {f"lines.0.{field}"}
    assert _unchanged(draft) == before


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("field", ["monthly_cost", "quantity", "months"])
def test_a_bad_number_on_a_cloud_line_is_a_field_error(pm, draft, field, value):
    before = _unchanged(draft)
    line = {"resource": "BMS", "monthly_cost": "10", "quantity": "1", "months": "1", field: value}
    with pytest.raises(ValidationError) as exc:
        quotes.check_set_lines(pm, draft, [{"item": item(), "person_days": "1"}], [line])
    assert set(exc.value.message_dict) == {f"cloud_lines.0.{field}"}
    assert _unchanged(draft) == before


@pytest.mark.parametrize("value", [*BAD, Decimal("NaN"), Decimal("Infinity"), Decimal("1e309")])
def test_a_bad_tax_rate_is_a_field_error(pm, customer_a, draft, value):
    with pytest.raises(ValidationError) as exc:
        quotes.check_update_quote(pm, draft, title="Q2", tax_rate=value)
    assert set(exc.value.message_dict) == {"tax_rate"}
    with pytest.raises(ValidationError) as exc:
        quotes.check_create_quote(pm, customer=customer_a, title="Q", tax_rate=value)
    assert set(exc.value.message_dict) == {"tax_rate"}
    draft.refresh_from_db()
    assert draft.title == "Q" and Quote.objects.count() == 1


def _lines_form(**values):
    form = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "cloud-TOTAL_FORMS": "1",
            "cloud-INITIAL_FORMS": "0", "lines-0-item": item().pk, "lines-0-person_days": "1",
            "lines-0-rate": "3000", "lines-0-discount": "0", "cloud-0-resource": "BMS", "cloud-0-quantity": "1",
            "cloud-0-monthly_cost": "10", "cloud-0-months": "1"}
    form.update(values)
    return form


@pytest.mark.parametrize("field", ["lines-0-rate", "lines-0-person_days", "lines-0-discount", "cloud-0-monthly_cost",
                                   "cloud-0-quantity", "cloud-0-months"])
@pytest.mark.parametrize("value", ["1e309", "NaN", "sNaN", "-Infinity", "1e999999999"])
def test_the_browser_gets_a_400_with_the_error_at_the_field(client, pm, draft, field, value):
    before = _unchanged(draft)
    client.force_login(pm)
    response = client.post(reverse("quote_detail", args=[draft.uuid]), _lines_form(**{field: value}))
    assert response.status_code == 400
    body = response.content.decode()
    # every line, service or cloud, marks the field with its name
    assert f'data-field="{field.split("-")[-1]}"' in body
    assert _unchanged(draft) == before


@pytest.mark.parametrize("value", ["1e309", "NaN", "sNaN", "Infinity", "1e999999999", "-1e999999999"])
def test_a_bad_tax_rate_in_the_browser_is_a_400(client, pm, draft, value):
    client.force_login(pm)
    response = client.post(reverse("quote_header", args=[draft.uuid]),
                           {"title": "Q2", "tax_rate": value, "valid_until": "", "notes": ""})
    assert response.status_code == 400
    response = client.post(reverse("quote_list"), {"customer": draft.customer_id, "title": "New", "tax_rate": value})
    assert response.status_code == 400
    draft.refresh_from_db()
    assert draft.title == "Q" and Quote.objects.count() == 1
