"""Django's errors from the ``check_*`` services, answered the way DRF answers its own:
``PermissionDenied`` is a 403 with the service's message, ``ValidationError`` a 400 with
DRF-style field errors ``{"field": ["message"]}`` / ``{"non_field_errors": [...]}``."""

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler


def field_errors(error: DjangoValidationError, rename: dict[str, str] | None = None) -> dict[str, list[str]]:
    """DRF-style errors from a Django ``ValidationError``.

    ``rename`` maps a service's field names to the API's (e.g. ``to_status`` -> ``to``).
    """
    rename = rename or {}
    raw = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    errors: dict[str, list[str]] = {}
    for name, messages in raw.items():
        key = api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else rename.get(name, name)
        errors.setdefault(key, []).extend(messages)
    return errors


def handler(exc, context):
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: convert Django's errors, then DRF's default.

    A view may declare ``service_field_names`` to rename the services' field names.
    """
    if isinstance(exc, DjangoValidationError):
        rename = getattr(context.get("view"), "service_field_names", None)
        exc = exceptions.ValidationError(field_errors(exc, rename))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return exception_handler(exc, context)
