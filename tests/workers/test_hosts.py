"""Hosts: encrypted secrets with rotation, pinned keys, scoping, and the host screens."""

import dataclasses

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import models
from django.urls import reverse

from workers import jobs, secrets
from workers.errors import PermanentError
from workers.models import AscendHost
from workers.ssh import Session

pytestmark = pytest.mark.django_db


def register(user, customer, simhost, **overrides):
    fields = {"customer": customer, "name": "npu-01", "address": simhost.address, "port": simhost.port,
              "username": simhost.username, "auth_method": "key", "tool_path": simhost.tool_path}
    fields.update(overrides)
    return jobs.check_register_host(user, fields, simhost.private_key)


def test_the_secret_is_stored_encrypted_and_never_in_clear(pm, customer_a, simhost):
    host = register(pm, customer_a, simhost)
    raw = AscendHost.objects.values_list("secret", flat=True).get(pk=host.pk)
    assert "PRIVATE KEY" not in raw and simhost.private_key.strip() not in raw
    assert secrets.decrypt(raw) == simhost.private_key.strip("\n")


def test_every_secret_column_is_in_the_rotation_registry():
    declared = set(secrets.ENCRYPTED_FIELDS)
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.TextField) and field.name == "secret":
                assert (model._meta.label, field.name) in declared


def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_go(pm, customer_a, simhost, settings):
    host = register(pm, customer_a, simhost)
    old_keys = list(settings.FERNET_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FERNET_KEYS = [new_key, *old_keys]
    call_command("rotate_secrets")
    settings.FERNET_KEYS = [new_key]
    host.refresh_from_db()
    assert secrets.decrypt(host.secret) == simhost.private_key.strip("\n")


def test_a_bad_private_key_is_refused_and_nothing_saved(pm, customer_a, simhost):
    with pytest.raises(ValidationError) as exc:
        jobs.check_register_host(pm, {"customer": customer_a, "name": "x", "address": "127.0.0.1", "port": 22,
                                      "username": "root", "auth_method": "key"}, "not a key")
    assert "secret" in exc.value.message_dict
    assert AscendHost.objects.count() == 0


def test_only_provider_staff_on_the_customer_register_hosts(contact, other_consultant, customer_a, simhost, engagement):
    for user in (contact, other_consultant):
        with pytest.raises(PermissionDenied):
            register(user, customer_a, simhost)


def test_a_host_key_is_pinned_only_when_it_is_the_one_presented(pm, customer_a, simhost):
    host = register(pm, customer_a, simhost)
    presented = jobs.fetch_key_for_confirmation(host)
    assert presented.fingerprint == simhost.host_key.fingerprint
    with pytest.raises(ValidationError):
        jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, "SHA256:somethingelse")
    host.refresh_from_db()
    assert not host.host_key_pinned
    jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)
    host.refresh_from_db()
    assert host.host_key_pinned and host.host_key_approved_by == pm


def test_test_connection_reports_latency_os_and_npu_smi(pm, customer_a, simhost):
    host = register(pm, customer_a, simhost)
    presented = jobs.fetch_key_for_confirmation(host)
    jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)
    check = jobs.check_connection(host)
    assert check["ok"] and check["npu_smi"] and check["os"].startswith("Linux")
    assert check["latency_ms"] >= 0


def test_a_connection_with_a_changed_key_fails_with_host_key_changed(pm, customer_a, simhost):
    host = register(pm, customer_a, simhost)
    presented = jobs.fetch_key_for_confirmation(host)
    jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)
    other = register(pm, customer_a, simhost, name="impostor")
    AscendHost.objects.filter(pk=other.pk).update(
        host_key_type="ssh-ed25519", host_key_fingerprint="SHA256:x", host_key_approved_at=host.host_key_approved_at,
        host_key_base64="AAAAC3NzaC1lZDI1NTE5AAAAIB3sxfVpmfT5o9yGmvSPIj1yOwUQ1GkjJG1cp1mXgk7O")
    other.refresh_from_db()
    check = jobs.check_connection(other)
    assert check["ok"] is False and check["reason"] == "host_key" and "Host key changed" in check["message"]
    with pytest.raises(PermanentError):
        Session(dataclasses.replace(jobs.target_for(other))).connect()


def test_customers_and_unassigned_consultants_do_not_see_hosts(client, pm, contact, other_consultant, customer_a,
                                                               simhost, engagement):
    host = register(pm, customer_a, simhost)
    # The contact's own organisation's host is in scope but internal (403); the unassigned
    # consultant works on nothing of that customer's, so the host does not exist for them (404).
    for user, status in ((contact, 403), (other_consultant, 404)):
        client.force_login(user)
        assert client.get(reverse("host_detail", args=[host.uuid])).status_code == status


def new_host(customer, **changes):
    """The register form as a person fills it in (a password login unless changed)."""
    data = {"customer": customer.pk, "name": "h", "address": "10.0.0.8", "port": 22, "username": "root",
            "auth_method": "password", "ascend_home": "/usr/local/Ascend", "work_root": ".ascend-portal/runs"}
    data.update(changes)
    return data


def test_the_register_screen_never_echoes_the_secret(client, pm, customer_a, engagement):
    client.force_login(pm)
    data = new_host(customer_a, address="bad host!", password="TopSecretPassw0rd")
    response = client.post(reverse("host_list"), data)
    body = response.content.decode()
    assert "TopSecretPassw0rd" not in body
    assert 'data-field="address"' in body
    assert 'type="password" name="password"' in body  # typed as dots, not in clear
    assert AscendHost.objects.count() == 0


def host_post(host, **changes):
    data = {"name": host.name, "address": host.address, "port": host.port, "username": host.username,
            "auth_method": host.auth_method, "ascend_home": host.ascend_home, "tool_path": host.tool_path,
            "work_root": host.work_root, "private_key": "", "password": ""}
    data.update(changes)
    return data


def test_a_key_login_without_a_key_is_an_error_on_the_key_field(client, pm, customer_a, engagement):
    client.force_login(pm)
    data = new_host(customer_a, auth_method="key", password="typed-in-the-wrong-box")
    response = client.post(reverse("host_list"), data)
    assert response.status_code == 400
    assert 'data-field="private_key"' in response.content.decode()
    assert "typed-in-the-wrong-box" not in response.content.decode()
    assert AscendHost.objects.count() == 0


def test_editing_a_host_keeps_its_secret_and_key_unless_the_address_changes(client, pm, customer_a, simhost,
                                                                             engagement):
    host = register(pm, customer_a, simhost)
    presented = jobs.fetch_key_for_confirmation(host)
    host = jobs.check_pin_host_key(pm, host, presented.key_type, presented.base64, presented.fingerprint)
    stored = host.secret
    client.force_login(pm)
    url = reverse("host_edit", args=[host.uuid])
    assert client.get(url).status_code == 200

    response = client.post(url, host_post(host, tool_path="/opt/tools:/usr/local/bin", name="npu-01b"))
    assert response.status_code == 302
    host.refresh_from_db()
    assert (host.name, host.tool_path, host.secret, host.host_key_pinned) == ("npu-01b", "/opt/tools:/usr/local/bin",
                                                                             stored, True)
    assert jobs.check_connection(host)["ok"] is True  # the kept secret still logs in

    response = client.post(url, host_post(host, port=host.port + 1), follow=True)
    host.refresh_from_db()
    assert host.host_key_pinned is False and host.host_key_fingerprint == "" and host.secret == stored
    assert "confirm the key" in response.content.decode()
    stage = engagement.stages.get(key="env_setup")
    with pytest.raises(ValidationError, match="Confirm the host's key"):
        jobs.check_start_job(pm, stage, host, "env_probe", {})


def test_switching_to_a_password_login_needs_the_password_and_changes_nothing_without_it(client, pm, customer_a,
                                                                                          simhost, engagement):
    host = register(pm, customer_a, simhost)
    client.force_login(pm)
    url = reverse("host_edit", args=[host.uuid])
    response = client.post(url, host_post(host, auth_method="password", name="renamed"))
    assert response.status_code == 400 and 'data-field="password"' in response.content.decode()
    unchanged = AscendHost.objects.get(pk=host.pk)
    assert (unchanged.auth_method, unchanged.name, unchanged.secret) == ("key", host.name, host.secret)

    response = client.post(url, host_post(host, auth_method="password", password="n3w-Passw0rd"))
    assert response.status_code == 302
    assert secrets.decrypt(AscendHost.objects.get(pk=host.pk).secret) == "n3w-Passw0rd"


def test_a_bad_new_key_is_an_error_on_the_key_field_and_the_old_key_stays(client, pm, customer_a, simhost, engagement):
    host = register(pm, customer_a, simhost)
    client.force_login(pm)
    response = client.post(reverse("host_edit", args=[host.uuid]), host_post(host, private_key="-----BEGIN nonsense"))
    assert response.status_code == 400 and 'data-field="private_key"' in response.content.decode()
    assert "BEGIN nonsense" not in response.content.decode()
    assert AscendHost.objects.get(pk=host.pk).secret == host.secret


def test_only_provider_staff_of_the_customer_edit_hosts(client, pm, contact, other_consultant, customer_a, simhost,
                                                        engagement):
    host = register(pm, customer_a, simhost)
    for user, status in ((contact, 403), (other_consultant, 404)):
        client.force_login(user)
        assert client.post(reverse("host_edit", args=[host.uuid]), host_post(host, name="x")).status_code == status
    assert AscendHost.objects.get(pk=host.pk).name == host.name


def test_a_secret_the_keys_cannot_decrypt_is_a_clear_failure_not_a_crash(pm, customer_a, simhost):
    host = register(pm, customer_a, simhost)
    AscendHost.objects.filter(pk=host.pk).update(secret=Fernet(Fernet.generate_key()).encrypt(b"lost").decode())
    host.refresh_from_db()
    check = jobs.check_connection(host)
    assert check["ok"] is False and check["reason"] == "authentication" and "FERNET_KEYS" in check["message"]


def test_the_job_form_chooses_the_customers_only_host_and_says_when_there_is_none(client, pm, customer_a, simhost,
                                                                                  engagement):
    client.force_login(pm)
    url = reverse("stage_jobs", args=[engagement.stages.get(key="env_setup").uuid])
    assert "has no registered host yet" in client.get(url).content.decode()
    host = register(pm, customer_a, simhost)
    body = client.get(url).content.decode()
    assert f'<option value="{host.pk}" selected>' in body and "has no registered host yet" not in body


def test_a_name_the_customer_already_uses_is_an_error_on_the_name(client, pm, customer_a, simhost, engagement):
    register(pm, customer_a, simhost, name="npu-01")
    other = register(pm, customer_a, simhost, name="npu-02")
    client.force_login(pm)
    response = client.post(reverse("host_edit", args=[other.uuid]), host_post(other, name="npu-01"))
    assert response.status_code == 400
    assert 'data-field="name"' in response.content.decode()
    assert AscendHost.objects.get(pk=other.pk).name == "npu-02"


def test_registering_a_second_host_under_the_same_name_is_an_error_on_the_name(client, pm, customer_a, simhost,
                                                                               engagement):
    register(pm, customer_a, simhost, name="npu-01")
    client.force_login(pm)
    response = client.post(reverse("host_list"), new_host(customer_a, name="npu-01", password="x-Passw0rd"))
    assert response.status_code == 400 and 'data-field="name"' in response.content.decode()
    assert AscendHost.objects.count() == 1
