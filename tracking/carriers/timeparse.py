"""Time helpers shared by the courier adapters: every datetime they return is timezone-aware.

Couriers write times in many ISO-8601 dialects:

- with an offset, ``2023-03-09T09:38:00+01:00`` (La Poste, Chronopost, FedEx);
- with an offset without colon, ``2023-03-09T09:38:00+0100`` (GLS);
- in UTC with ``Z``, ``2018-03-02T07:53:47Z`` (DHL shipment-level fields);
- with no offset at all, ``2018-03-02T07:53:47`` (DHL parcel-de events, USPS): the courier's local
  time at the scan, which only the scan's country can tell. ``country_timezone`` gives the zone
  to read it in.

Python 3.11's ``datetime.fromisoformat`` reads all of these (and fractional seconds); what it
cannot do is guess a zone for a naive time, which is why callers must always say which zone a
naive time is in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

# ISO 3166-1 alpha-2 -> IANA zone. Countries spanning several zones get their capital's zone
# (ES -> Madrid, not the Canaries; PT -> Lisbon, not the Azores; US -> Washington's New_York;
# BR -> Brasília's Sao_Paulo; AU -> Canberra's Sydney; RU -> Moscow; CA -> Ottawa's Toronto).
# A scan in an overseas territory usually carries the territory's own code (RE, GP…), listed too.
COUNTRY_TIMEZONES: dict[str, str] = {
    # European Union
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "CY": "Asia/Nicosia",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn",
    "ES": "Europe/Madrid",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GR": "Europe/Athens",
    "HR": "Europe/Zagreb",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "LT": "Europe/Vilnius",
    "LU": "Europe/Luxembourg",
    "LV": "Europe/Riga",
    "MT": "Europe/Malta",
    "NL": "Europe/Amsterdam",
    "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon",
    "RO": "Europe/Bucharest",
    "SE": "Europe/Stockholm",
    "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
    # Rest of Europe
    "AD": "Europe/Andorra",
    "AL": "Europe/Tirane",
    "BA": "Europe/Sarajevo",
    "CH": "Europe/Zurich",
    "GB": "Europe/London",
    "IS": "Atlantic/Reykjavik",
    "LI": "Europe/Vaduz",
    "MC": "Europe/Monaco",
    "ME": "Europe/Podgorica",
    "MK": "Europe/Skopje",
    "NO": "Europe/Oslo",
    "RS": "Europe/Belgrade",
    "RU": "Europe/Moscow",
    "SM": "Europe/San_Marino",
    "TR": "Europe/Istanbul",
    "UA": "Europe/Kiev",  # "Europe/Kyiv" only exists in tzdata >= 2022b; Kiev is kept as a link
    "VA": "Europe/Vatican",
    # French overseas departments and territories
    "GF": "America/Cayenne",
    "GP": "America/Guadeloupe",
    "MQ": "America/Martinique",
    "NC": "Pacific/Noumea",
    "PF": "Pacific/Tahiti",
    "PM": "America/Miquelon",
    "RE": "Indian/Reunion",
    "YT": "Indian/Mayotte",
    # Outside Europe: where marketplace parcels commonly go or come from
    "AE": "Asia/Dubai",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CN": "Asia/Shanghai",
    "DZ": "Africa/Algiers",
    "HK": "Asia/Hong_Kong",
    "IL": "Asia/Jerusalem",
    "IN": "Asia/Kolkata",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "MA": "Africa/Casablanca",
    "MX": "America/Mexico_City",
    "NZ": "Pacific/Auckland",
    "SG": "Asia/Singapore",
    "TN": "Africa/Tunis",
    "US": "America/New_York",
    "ZA": "Africa/Johannesburg",
}

UTC_ZONE = ZoneInfo("UTC")


def country_timezone(country_code: str | None) -> ZoneInfo:
    """The zone a courier's naive local time in ``country_code`` is in; UTC when unknown.

    UTC is a fallback, not a guess: an unknown country must not silently become Paris time.
    """
    name = COUNTRY_TIMEZONES.get((country_code or "").strip().upper())
    return ZoneInfo(name) if name else UTC_ZONE


# US states -> zone, for the offset-less local times of UPS, FedEx, USPS and DHL Express in the
# US (one zone per country is not enough there). States split between zones get the zone of
# most of their population.
_US_ZONE_STATES = {
    "America/New_York": "CT DC DE FL GA IN KY MA MD ME MI NC NH NJ NY OH PA RI SC VA VT WV",
    "America/Chicago": "AL AR IA IL KS LA MN MO MS ND NE OK SD TN TX WI",
    "America/Denver": "CO MT NM UT WY",
    "America/Boise": "ID",
    "America/Phoenix": "AZ",
    "America/Los_Angeles": "CA NV OR WA",
    "America/Anchorage": "AK",
    "Pacific/Honolulu": "HI",
    "America/Puerto_Rico": "PR VI",
}
US_STATE_ZONES: dict[str, str] = {
    state: zone for zone, states in _US_ZONE_STATES.items() for state in states.split()
}


def region_timezone(country_code: str | None, state: str = "") -> ZoneInfo:
    """The zone of a place given by country and, in the US, state (its capital's otherwise)."""
    country = (country_code or "").strip().upper()
    zone = US_STATE_ZONES.get(state.strip().upper()) if country == "US" else None
    return ZoneInfo(zone) if zone else country_timezone(country)


def parse_datetime(value: object, *, default_tz: tzinfo = UTC) -> datetime:
    """An ISO-8601 date-time as an aware datetime.

    A time with an offset (``+01:00``, ``+0100``, ``Z``) keeps it; a naive time is read as the
    wall-clock time in ``default_tz`` (for an ambiguous time at a DST change, the first of the
    two, ``fold=0``). Raises ValueError for anything that is not an ISO-8601 date-time string.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date-time: {value!r}")
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def parse_date_or_datetime(value: object, *, default_tz: tzinfo = UTC) -> date | datetime:
    """A date alone (``2023-03-09``) as a ``date``; anything longer as ``parse_datetime`` does.

    Estimated delivery is often a bare day: turning it into midnight would invent a time.
    """
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass  # not YYYY-MM-DD: let parse_datetime say what is wrong
    return parse_datetime(value, default_tz=default_tz)
