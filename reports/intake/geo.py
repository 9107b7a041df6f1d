"""Countries: validating ISO 3166-1 alpha-2 codes and locating addresses offline.

iptocc was chosen by measurement (see README, "Country lookup"): about
0.2 µs a lookup, 1 MB of memory, registry data rebuilt nightly, IPv6 too.
"""

from __future__ import annotations

from functools import lru_cache

import pycountry
from iptocc import country_code

from reports.intake.identity import IPAddress, ip_text


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country_code(code: str) -> bool:
    """True for an officially assigned ISO 3166-1 alpha-2 code, upper case."""
    return code in _codes()


def parse_country_code(text: str) -> str | None:
    """`text` as an ISO 3166-1 alpha-2 code in upper case ("de " -> "DE"), or None if it is not one.

    ASCII first: str.upper() folds some non-ASCII letters into two ASCII ones ("ß" -> "SS").
    """
    text = text.strip()
    return text.upper() if text.isascii() and is_country_code(text.upper()) else None


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return country.name if country else ""


def country_for(ip: IPAddress | None) -> str:
    """The country an address is registered to, or "" (private, reserved, unknown)."""
    if ip is None or not ip.is_global:
        return ""
    code = country_code(ip_text(ip))
    # Registry data also uses codes like "EU" and "AP" that are not countries.
    return code if code and is_country_code(code) else ""
