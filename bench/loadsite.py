"""Settings of the gunicorn that ``bench/load.py`` starts: the portal's own settings
(``config.settings``, read from the same environment) with one change, a URLconf
(``bench/loadurls.py``) that adds the benchmark's bare view beside the portal's URLs.

Never part of the product: ``load.py`` passes ``DJANGO_SETTINGS_MODULE=loadsite`` with ``bench/``
on ``PYTHONPATH``, so ``config/urls.py`` stays as it is deployed.

``BENCH_LOAD_COMPRESS_STATIC=false`` (the ``--tiny`` run) keeps WhiteNoise and the hashed file
names of the manifest but skips building the gzip/Brotli copies: ``collectstatic`` then takes
about a second instead of half a minute. The full run uses the production storage unchanged.
"""

import os

from config.settings import *  # noqa: F403  (the portal's settings, every one of them)
from config.settings import STORAGES

ROOT_URLCONF = "loadurls"

if os.environ.get("BENCH_LOAD_COMPRESS_STATIC", "true") == "false":
    STORAGES = {**STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
