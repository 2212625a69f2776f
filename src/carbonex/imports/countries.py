"""Country names as registries print them, mapped to ISO 3166-1 alpha-2 codes.

A small table of the names seen in Verra and Gold Standard exports; a name not listed here is
reported as a bad row (add it here rather than guessing). Two-letter codes pass through.
"""

from __future__ import annotations

COUNTRY_CODES_BY_NAME: dict[str, str] = {
    "bangladesh": "BD",
    "brazil": "BR",
    "cambodia": "KH",
    "china": "CN",
    "colombia": "CO",
    "ethiopia": "ET",
    "ghana": "GH",
    "guatemala": "GT",
    "honduras": "HN",
    "india": "IN",
    "indonesia": "ID",
    "kenya": "KE",
    "malawi": "MW",
    "malaysia": "MY",
    "mexico": "MX",
    "nepal": "NP",
    "nigeria": "NG",
    "pakistan": "PK",
    "peru": "PE",
    "philippines": "PH",
    "rwanda": "RW",
    "singapore": "SG",
    "south africa": "ZA",
    "sri lanka": "LK",
    "tanzania": "TZ",
    "thailand": "TH",
    "turkey": "TR",
    "türkiye": "TR",
    "uganda": "UG",
    "united states": "US",
    "uruguay": "UY",
    "viet nam": "VN",
    "vietnam": "VN",
    "zambia": "ZM",
    "zimbabwe": "ZW",
}
ISO_CODE_LENGTH = 2


def country_code(name: str) -> str | None:
    """The ISO code of a country name (case-insensitive), or None when unknown."""
    text = name.strip()
    if len(text) == ISO_CODE_LENGTH and text.isalpha() and text.isupper():
        return text
    return COUNTRY_CODES_BY_NAME.get(text.casefold())
