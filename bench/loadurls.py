"""The load benchmark's URLconf (``bench/loadsite.py``): the portal's URLs, plus a bare view.

The bare view is the yardstick of ``bench/load.py``: a Django view that does no work of its
own and returns a page of a given size (the portal pages' mean size, measured in the same
run), served by the same gunicorn through the same middleware (sessions, the user's language,
CSRF, CSP, ...). ``p95(page) / p95(bare)`` is then what a portal page costs beyond Django
itself, under the same load.
"""

from functools import lru_cache

from django.http import Http404, HttpResponse
from django.urls import include, path

MAX_BYTES = 8 * 1024 * 1024
HEAD = b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>bare</title></head><body>\n"
TAIL = b"\n</body></html>\n"
FILLER = b"<p>The bare view of the load benchmark: a page of the portal's size, built once.</p>\n"


@lru_cache(maxsize=16)
def page_of(size: int) -> bytes:
    """An HTML page of exactly ``size`` bytes (at least the head and tail)."""
    room = max(0, size - len(HEAD) - len(TAIL))
    return HEAD + (FILLER * (room // len(FILLER) + 1))[:room] + TAIL


def bare(request, size: int):
    if size > MAX_BYTES:
        raise Http404
    return HttpResponse(page_of(size), content_type="text/html; charset=utf-8")


urlpatterns = [
    path("bench-bare/<int:size>/", bare, name="bench_bare"),
    path("", include("config.urls")),
]
