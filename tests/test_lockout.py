"""The login lockout of django-axes, with axes enabled (the other tests disable it): after
``AXES_FAILURE_LIMIT`` wrong passwords a username and IP address pair is locked out, even with
the right password, while the same user from another address, or after a reset, signs in."""

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.urls import reverse

PASSWORD = "correct-horse-battery"

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    return settings


def _login(client, password, ip="192.0.2.10"):
    return client.post(reverse("login"), {"username": "contact", "password": password}, REMOTE_ADDR=ip)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_configuration_is_what_this_test_locks(axes_on):
    assert axes_on.AXES_FAILURE_LIMIT == 5 and axes_on.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_login_locks_out_after_the_configured_failures(client, axes_on, contact):
    limit = axes_on.AXES_FAILURE_LIMIT
    for _attempt in range(limit - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with its error
    assert _login(client, "wrong").status_code == 429  # the limit-th failure locks
    attempt = AccessAttempt.objects.get(username="contact", ip_address="192.0.2.10")
    assert attempt.failures_since_start == limit
    locked = _login(client, PASSWORD)
    assert locked.status_code == 429 and not _signed_in(client)  # even the right password
    other_address = _login(client, PASSWORD, ip="198.51.100.7")
    assert other_address.status_code == 302 and _signed_in(client)


def test_an_admin_reset_lifts_the_lockout(client, axes_on, contact):
    for _attempt in range(axes_on.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    assert _login(client, PASSWORD).status_code == 429
    reset(username="contact")
    assert _login(client, PASSWORD).status_code == 302 and _signed_in(client)


def test_a_right_password_before_the_limit_resets_the_count(client, axes_on, contact):
    for _attempt in range(axes_on.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong")
    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    for _attempt in range(axes_on.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200
    assert _login(client, PASSWORD).status_code == 302 and _signed_in(client)
