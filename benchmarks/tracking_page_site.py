"""Settings of the tracking-page benchmark's gunicorn server (benchmarks/tracking_page.py): the
product's settings, its URLs plus a minimal view to compare against
(benchmarks/tracking_page_urls.py), the rate limit raised out of the way, and static files
collected to a temporary directory.

Served as DJANGO_SETTINGS_MODULE=benchmarks.tracking_page_site; never used by the product.
"""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.tracking_page_urls"
# Four client threads on one address: the per-IP limit must not turn the run into 429s.
TRACKING_PAGE_RATE_LIMIT = 1_000_000_000
STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
