"""Rate-limit logs of the embedded default (no Redis): one row per limited key."""

from __future__ import annotations

from django.db import models


class RateLimitLog(models.Model):
    """The times of one rate-limit key's hits within its period (the key is a keyed hash, never an address).

    Read and written under a row lock (SELECT ... FOR UPDATE; SQLite's write transaction), so
    concurrent requests on any number of processes see each other's hits
    (reports/intake/throttles.py). With Redis configured the logs live there instead and this
    table stays empty.
    """

    key = models.CharField(max_length=80, unique=True)
    hits = models.JSONField(default=list, help_text="Unix times of the hits still within the period, oldest first.")
    expires_at = models.DateTimeField(db_index=True, help_text="When the newest hit leaves the period.")

    def __str__(self) -> str:
        return f"{self.key[:12]}: {len(self.hits)} hits"
