"""Settings for the test suite: the real settings, with test-only secrets.

DATABASE_URL and REDIS_URL are honoured exactly as in production, so CI runs
the suite on PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-8f3a1c")
os.environ.setdefault("OUTAGEHUB_DATA_DIR", tempfile.mkdtemp(prefix="outagehub-test-"))
# Reports written synchronously unless a test turns write-behind on (reports/tests/intake/test_writebehind.py):
# the suite checks what was stored right after posting it.
os.environ.setdefault("OUTAGEHUB_INTAKE_WRITE_BEHIND", "0")

from outagehub.settings import *  # noqa: F403
from outagehub.settings import CACHES, DATA_DIR, REDIS_CACHE_URL, REDIS_URL

# On PostgreSQL, a "replica" alias that is the test database itself (a mirror), so the read-replica
# router (outagehub/dbrouter.py) can be tested; the router is off unless a test turns it on.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and "replica" not in DATABASES:  # noqa: F405
    DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; tests have no real passwords
SECURE_SSL_REDIRECT = False
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
if REDIS_CACHE_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel test processes share the Redis database: keep each one's keys (and clear()) apart.
    for _cache in CACHES.values():
        _cache["KEY_PREFIX"] = f"{_cache['KEY_PREFIX']}-{os.environ['PYTEST_XDIST_WORKER']}"
if not REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "conditional": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "conditional"},
        "memo": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "memo"},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
