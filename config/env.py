"""Typed readers for settings that come from the environment.

Each reader refuses a bad value with a message that names the variable, instead of
guessing. ``env_secret`` also accepts ``NAME_FILE`` so secrets can come from mounted files.
"""

import base64
import binascii
import os
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"Unexpected value {name}={value!r}, use 'true' or 'false'.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Unexpected value {name}={value!r}, use a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Unexpected value {name}={value!r}, use a whole number of at least {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"Unexpected value {name}={value!r}, use a whole number of at most {maximum}.")
    return number


def env_step(name: str, default: str, *, places: int) -> str:
    """A step in (0, 1] with at most ``places`` decimal places that divides 1 exactly, e.g. 0.5 or 0.25."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        value = default
    text = value.strip()
    problem = f"Unexpected value {name}={value!r}, use a number in (0, 1] with at most {places} decimal places " \
              "that divides 1 exactly, e.g. 0.5 or 0.25."
    try:
        step = Decimal(text)
    except InvalidOperation:
        raise ImproperlyConfigured(problem) from None
    if not step.is_finite() or not 0 < step <= 1:
        raise ImproperlyConfigured(problem)
    if step != step.quantize(Decimal(1).scaleb(-places)) or (1 / Fraction(step)).denominator != 1:
        raise ImproperlyConfigured(problem)
    return text


def env_fernet_keys(name: str) -> list[str]:
    """Comma-separated Fernet keys (32 bytes, url-safe base64), checked as Fernet reads them.

    The message names the position of a bad key, never its value.
    """
    keys = env_list(name, [])
    for position, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (binascii.Error, ValueError, UnicodeEncodeError):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"{name} holds a value that is not a Fernet key (32 url-safe base64 bytes): "
                f"key {position} of {len(keys)}."
            )
    return keys


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None) -> str:
    """A secret from NAME, or from the file named by NAME_FILE."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"Cannot read {name}_FILE={path!r}: {exc}") from None
    return env_str(name, default)
