"""Secrets at rest: MultiFernet over FERNET_KEYS from the environment, newest key first.

Rotation: prepend a new key to FERNET_KEYS, run ``manage.py rotate_secrets`` (it re-encrypts
every column listed in ``ENCRYPTED_FIELDS``), then drop the old key.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# (app_label.ModelName, field name) of every encrypted column; a test keeps it complete.
ENCRYPTED_FIELDS: list[tuple[str, str]] = []


def register(model_label: str, field: str) -> None:
    if (model_label, field) not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append((model_label, field))


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("Set FERNET_KEYS (comma-separated Fernet keys, newest first) to store host secrets.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "FERNET_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes).") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FERNET_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FERNET_KEYS: was a key dropped too early?") from None


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()
