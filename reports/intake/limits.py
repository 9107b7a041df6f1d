"""Rate limits as values, and the Lua that checks and takes them in Redis (throttles.py, writebehind.py).

Kept apart from throttles.py so that the write-behind intake can take a report's rate-limit
places in the same Redis script that claims its cooldown and queues it: one round trip per
report instead of two, and no window between the limit check and the report being taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Where the report limits live when they share the write-behind intake's Redis (writebehind.py):
# beside the cooldown keys, so one script can check both.
INTAKE_KEY_PREFIX = "outagehub:rl:"


@lru_cache(maxsize=64)
def parse_rate(rate: str) -> tuple[int, int]:
    """`"10/min"` -> (10, 60): requests per period in seconds (settings validate the format at start)."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` hits of `key` (a keyed hash, never an address) in any `period` seconds."""

    key: str
    count: int
    period: int

    @classmethod
    def from_rate(cls, key: str, rate: str) -> Limit:
        count, period = parse_rate(rate)
        return cls(key, count, period)


@dataclass(frozen=True)
class Refusal:
    """The limit that is full, and when its oldest hit within the period leaves it (a Unix time)."""

    limit: Limit
    oldest: float

    def wait(self, now: float) -> float:
        """Seconds until one more hit fits, if no one else hits meanwhile (at most the period)."""
        # Clamped: a concurrent request that took its time a moment after `now` may be the oldest.
        return min(float(self.limit.period), max(0.0, self.oldest + self.limit.period - now))


class RateLimited(Exception):
    """A report refused by a rate limit; nothing was taken or stored."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"rate limit {refusal.limit.key} is full")
        self.refusal = refusal


def limit_args(limits: tuple[Limit, ...] | list[Limit]) -> list[str]:
    """The (count, period) ARGV pairs RESERVE_LUA reads for `limits`, in their order."""
    args: list[str] = []
    for limit in limits:
        args += [str(limit.count), str(limit.period)]
    return args


# A Lua function for the scripts that take rate-limit places: each limit is a sorted set of hit ids
# scored by time. reserve(first, n, now, member, arg) checks KEYS[first .. first+n-1], whose count
# and period are ARGV[arg + 2i], ARGV[arg + 2i + 1]. All or nothing: if any limit is full nothing is
# written, and it returns that limit's 1-based index and the time of its oldest hit; else 0, '0'.
# Hits that have left their period are trimmed only when the set holds `count` of them or more:
# fewer cannot fill the limit, so the answer is the same, the set never holds more than `count`,
# and the common case (a limit far from full) costs one command less (each redis.call from Lua
# costs a few microseconds of Redis's one thread).
RESERVE_LUA = """
local function reserve(first, n, now, member, arg)
  for i = 0, n - 1 do
    local key, count = KEYS[first + i], tonumber(ARGV[arg + 2 * i])
    if redis.call('ZCARD', key) >= count then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[arg + 2 * i + 1]))
      if redis.call('ZCARD', key) >= count then
        local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
        return i + 1, oldest[2]
      end
    end
  end
  for i = 0, n - 1 do
    redis.call('ZADD', KEYS[first + i], now, member)
    redis.call('PEXPIRE', KEYS[first + i], math.ceil(tonumber(ARGV[arg + 2 * i + 1]) * 1000))
  end
  return 0, '0'
end
"""
