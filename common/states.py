"""One style for every state machine: a declared map, a guarded UPDATE, a recorded row.

A model with a status declares its allowed moves and how a move is recorded::

    class Thing(models.Model):
        TRANSITIONS = {Status.A: {Status.B, Status.C}, Status.B: {Status.A}}

        def record_transition(self, from_status, to_status, *, actor=None, reason="", at=None, **details):
            return ThingTransition.objects.create(thing=self, from_status=from_status, ...)

and changes its status only with ``move(thing, Status.B, actor=user, reason="...")``. ``move``:

1. refuses a move the map does not allow from the status the caller holds (nothing is written);
2. runs ``UPDATE ... SET status = to, <fields> WHERE pk = ... AND status = <that from-status>``,
   so an object someone else has moved in the meantime (a stale copy, a concurrent request,
   another worker) changes nothing: the statement matches no row;
3. when the row changed, and only then, records the transition (who, when, from, to, why)
   in the same transaction, and updates the object in memory.

It returns whether the object moved. Callers that must tell the user why not (a form, an
API call) check first, usually under ``select_for_update()``; callers racing other
processes (workers, periodic tasks) just read the result.

This module imports no app: the map and the record are the model's.
"""

from collections.abc import Callable, Mapping

from django.db import models, transaction
from django.utils import timezone

__all__ = ["allowed_from", "can_move", "move"]


def allowed_from(transitions: Mapping, to_status: str) -> list[str]:
    """The statuses the map allows a move to ``to_status`` from, sorted."""
    return sorted(str(status) for status, targets in transitions.items() if to_status in targets)


def can_move(obj: models.Model, to_status: str) -> bool:
    """Whether the map allows the object's (in-memory) status to become ``to_status``."""
    return to_status in type(obj).TRANSITIONS.get(obj.status, ())


def move(obj: models.Model, to_status: str, *, actor=None, reason="", at=None, record: Callable | None = None,
         details: dict | None = None, **fields) -> bool:
    """Move ``obj`` to ``to_status`` if the map allows it from the status ``obj`` holds and the
    database row still holds it; record the transition; return whether it moved.

    ``fields`` are written in the same UPDATE (plain values: they are also set on ``obj``).
    ``record(obj, from_status, to_status, actor=, reason=, at=, **details)`` creates the
    transition row; by default the model's ``record_transition`` method. ``at`` (default: now)
    is the recorded time; ``reason`` is passed through as is (a string, or the model's own
    message type).
    """
    from_status = obj.status
    if not can_move(obj, to_status):
        return False
    at = at or timezone.now()
    record = record or type(obj).record_transition
    with transaction.atomic():
        changed = type(obj)._default_manager.filter(pk=obj.pk, status=from_status).update(status=to_status, **fields)
        if not changed:
            return False
        record(obj, from_status, to_status, actor=actor, reason=reason, at=at, **(details or {}))
    obj.status = to_status
    for name, value in fields.items():
        setattr(obj, name, value)
    return True
