"""DHL Express: what its two formats share: the checkpoint codes and their mapping, the service
areas and their zones, places and local times. The formats: ``mydhl.py`` (MyDHL API JSON) and
``xmlpi.py`` (legacy XML-PI); the adapter (``__init__.py``) fetches and classifies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from tracking.carriers.base import CarrierPayloadError, Location
from tracking.carriers.base import signatory as no_placeholder
from tracking.carriers.timeparse import (
    US_STATE_ZONES,
    parse_datetime,
    region_timezone,
)
from tracking.carriers.vocabulary import Status, Substatus

COURIER = "DHL Express"
_INFO = Status.INFO_RECEIVED
_TRANSIT = Status.IN_TRANSIT
_OFD = Status.OUT_FOR_DELIVERY
_FAILED = Status.FAILED_ATTEMPT
_PICKUP = Status.AVAILABLE_FOR_PICKUP
_DELIVERED = Status.DELIVERED
_EXC = Status.EXCEPTION
_DELAYED = (_EXC, Substatus.EXCEPTION_DELAYED)
_CUSTOMS = (_EXC, Substatus.EXCEPTION_CUSTOMS)
_HELD = (_EXC, Substatus.EXCEPTION_OTHER)


# DHL Express checkpoint code -> our (status, substatus). Provenance of each code:
#   [d] DHL's own list of Express event codes (the "express" rows of the status table karrio
#       vendors as modules/connectors/mydhl/vendors/status_1.csv); text = DHL's label;
#   [s] seen in a sample (dhl_express_xmlpi_*.xml, dhl_mydhl_express_delivered_synthetic.json);
#   [k] only in karrio's mydhl / dhl_express tracking tables (TrackingStatus /
#       TrackingIncidentReason), which give no label: the reading after "--" is ours.
# Delays and holds are exceptions (a CS agent should look), not failed attempts: the parcel has
# not reached the door.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # Shipment information only (MyDHL's shipment-level status word, see the docstring).
    "pre-transit": (_INFO, None),  # DHL's shipment-level status 104
    # Collected and moving.
    "PU": (_TRANSIT, None),  # [d][s] Shipment pick up
    "SA": (_TRANSIT, None),  # [d] Shipment acceptance
    "PL": (_TRANSIT, None),  # [d][s] Processed at location
    "PO": (_TRANSIT, None),  # [s] Departing origin
    "RW": (_TRANSIT, None),  # [s][k] -- reweighed (XML-PI's Signatory carries the new weight)
    "DF": (_TRANSIT, None),  # [d][s] Depart facility
    "AF": (_TRANSIT, None),  # [d][s] Arrived facility
    "AR": (_TRANSIT, None),  # [d][s] Arrival in delivery facility
    "TR": (_TRANSIT, None),  # [d] Record of transfer
    "FD": (_TRANSIT, None),  # [d] Forward destination (DD's expected)
    "TP": (_TRANSIT, None),  # [d] Forwarded to 3rd party - no DD's (a partner delivers it)
    "SC": (_TRANSIT, None),  # [d] Service changed
    "AD": (_TRANSIT, None),  # [d] Agreed delivery (a day agreed with the consignee)
    "RR": (_TRANSIT, None),  # [d] Response received (to a query, e.g. from customs)
    "OF": (_TRANSIT, None),  # [k] -- on-forwarded
    "PA": (_TRANSIT, None),  # [k]
    "PF": (_TRANSIT, None),  # [k]
    "CU": (_TRANSIT, None),  # [k]
    # Customs: routine processing moves on; a hold waits for someone.
    "IC": (_TRANSIT, None),  # [d] In clearance processing
    "CR": (_TRANSIT, None),  # [d] Clearance release
    "BR": (_TRANSIT, None),  # [d] Broker release
    "BN": (_TRANSIT, None),  # [d] Customer broker notified (the consignee's broker clears it)
    "CI": _CUSTOMS,  # [k] -- customs inspection
    "CD": _CUSTOMS,  # [d] Controllable clearance delay
    "UD": _CUSTOMS,  # [d] Uncontrollable clearance delay
    "HP": _CUSTOMS,  # [d] Held for payment (duties and taxes)
    # With the courier, or waiting for the consignee.
    "WC": (_OFD, None),  # [d][s] With delivering courier
    "OO": (_OFD, None),  # [k] -- out for delivery
    "CC": (_PICKUP, None),  # [d] Awaiting cnee collection
    "LX": (_PICKUP, None),  # [k] -- ready for pickup
    # Delivered; where and to whom come from the description and the signatory.
    "OK": (_DELIVERED, None),  # [d][s] Delivery
    "DL": (_DELIVERED, None),  # [k] -- delivered
    # Delivery attempted: another attempt follows.
    "NH": (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),  # [d] Not home
    "CA": (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),  # [d] Closed on arrival
    "ND": (_FAILED, None),  # [d] Not delivered
    "MD": _DELAYED,  # [d] Missed delivery cycle
    # Address problems, refusals, damage.
    "BA": (_EXC, Substatus.EXCEPTION_ADDRESS_ISSUE),  # [d] Bad address
    "CM": (_EXC, Substatus.EXCEPTION_ADDRESS_ISSUE),  # [d] Customer moved
    "IA": (_EXC, Substatus.EXCEPTION_ADDRESS_ISSUE),  # [k] -- incorrect address
    "RD": (_EXC, Substatus.EXCEPTION_REFUSED),  # [d] Refused delivery
    # Delivered damaged: the buyer has it, but it is a claim, not a clean delivery.
    "DD": (_EXC, Substatus.EXCEPTION_DAMAGED),  # [d] Delivered damaged
    # Some pieces only: not a proof that the order arrived.
    "PD": _HELD,  # [d] Partial delivery
    # Held, stopped, or late in DHL's network.
    "OH": _HELD,  # [d] On hold
    "HN": _HELD,  # [k] -- on hold
    "HX": _HELD,  # [k] -- on hold
    "SS": _HELD,  # [d] Shipment stopped
    "ST": _HELD,  # [k] -- shipment intercepted
    "CS": _HELD,  # [d] Closed shipment
    "HI": _DELAYED,  # [k] -- delayed (karrio: delivery_delayed)
    "HO": _DELAYED,  # [k] -- delayed (karrio: delivery_delayed, holiday)
    "TD": _DELAYED,  # [d] Transport delay
    "MS": _DELAYED,  # [d] Mis-sort (rerouted: late)
    "MC": _DELAYED,  # [d] Miscode (rerouted: late)
    "DY": _DELAYED,  # [k] -- delay
    "SM": _DELAYED,  # [k] -- delay
    "HW": _DELAYED,  # [k] -- weather delay
    "WX": _DELAYED,  # [k] -- weather delay
    # Back to the shipper, or gone.
    "RT": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # [d] Returned to consignor
    # Destroyed or disposed of: for the buyer the parcel will never arrive.
    "DS": (_EXC, Substatus.EXCEPTION_LOST),  # [d] Destroyed / disposal
}
SAMPLE_CODES = frozenset({"PU", "PO", "RW", "PL", "AF", "DF", "AR", "WC", "OK"})
DELIVERED_CODE = "OK"
PRE_TRANSIT_CODE = "pre-transit"


# Delivery descriptions (lowercase fragments) -> (status, substatus); first match wins, so a
# delivery back to the shipper comes before any other place.
DELIVERED_TEXTS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("returned to shipper", (_EXC, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("returned to sender", (_EXC, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("delivered to shipper", (_EXC, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("delivered to sender", (_EXC, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("locker", (_DELIVERED, Substatus.DELIVERED_LOCKER)),
    ("service point", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("servicepoint", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("access point", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("parcel shop", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("pickup point", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("mailbox", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("letterbox", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("letter box", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("neighbour", (_DELIVERED, Substatus.DELIVERED_NEIGHBOUR)),
    ("neighbor", (_DELIVERED, Substatus.DELIVERED_NEIGHBOUR)),
    ("front door", (_DELIVERED, Substatus.DELIVERED_FRONT_DOOR)),
)


# Holds whose description says more than the code (first match wins).
HELD_TEXTS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("could not be located", (_EXC, Substatus.EXCEPTION_LOST)),
    ("not located", (_EXC, Substatus.EXCEPTION_LOST)),
    ("investigation", (_EXC, Substatus.EXCEPTION_LOST)),
    ("lost", (_EXC, Substatus.EXCEPTION_LOST)),
    ("missing", (_EXC, Substatus.EXCEPTION_LOST)),
    ("customs", _CUSTOMS),
    ("damaged", (_EXC, Substatus.EXCEPTION_DAMAGED)),
)


# DHL Express service areas (IATA-style city/airport codes) -> IANA zone: the samples' areas,
# the French ones a marketplace ships from, and DHL's main hubs. Any other area falls back to
# its description's country (timeparse gives each country its capital's zone).
SERVICE_AREA_ZONES: dict[str, str] = {
    # In the samples
    "BCN": "Europe/Madrid",
    "MIL": "Europe/Rome",
    "BGY": "Europe/Rome",
    "LEJ": "Europe/Berlin",
    "SIN": "Asia/Singapore",
    "HKG": "Asia/Hong_Kong",
    "KIN": "America/Jamaica",
    "LGA": "America/New_York",
    "NYC": "America/New_York",
    "LAX": "America/Los_Angeles",
    "BNE": "Australia/Brisbane",
    # France (continental and overseas)
    "PAR": "Europe/Paris",
    "CDG": "Europe/Paris",
    "ORY": "Europe/Paris",
    "LYS": "Europe/Paris",
    "MRS": "Europe/Paris",
    "NCE": "Europe/Paris",
    "TLS": "Europe/Paris",
    "BOD": "Europe/Paris",
    "NTE": "Europe/Paris",
    "LIL": "Europe/Paris",
    "SXB": "Europe/Paris",
    "MPL": "Europe/Paris",
    "RNS": "Europe/Paris",
    "PTP": "America/Guadeloupe",
    "FDF": "America/Martinique",
    "RUN": "Indian/Reunion",
    "CAY": "America/Cayenne",
    # Europe's hubs
    "BRU": "Europe/Brussels",
    "AMS": "Europe/Amsterdam",
    "FRA": "Europe/Berlin",
    "CGN": "Europe/Berlin",
    "MAD": "Europe/Madrid",
    "LIS": "Europe/Lisbon",
    "LON": "Europe/London",
    "LHR": "Europe/London",
    "EMA": "Europe/London",
    "DUB": "Europe/Dublin",
    "ZRH": "Europe/Zurich",
    "GVA": "Europe/Zurich",
    "VIE": "Europe/Vienna",
    "CPH": "Europe/Copenhagen",
    "WAW": "Europe/Warsaw",
    "IST": "Europe/Istanbul",
    # Americas (the US and Canada span several zones: the code says which)
    "JFK": "America/New_York",
    "EWR": "America/New_York",
    "MIA": "America/New_York",
    "ATL": "America/New_York",
    "CVG": "America/New_York",
    "ORD": "America/Chicago",
    "CHI": "America/Chicago",
    "DFW": "America/Chicago",
    "DEN": "America/Denver",
    "PHX": "America/Phoenix",
    "SFO": "America/Los_Angeles",
    "SEA": "America/Los_Angeles",
    "YYZ": "America/Toronto",
    "YUL": "America/Toronto",
    "YVR": "America/Vancouver",
    "MEX": "America/Mexico_City",
    "GRU": "America/Sao_Paulo",
    "SAO": "America/Sao_Paulo",
    # Middle East, Asia, Pacific
    "DXB": "Asia/Dubai",
    "BAH": "Asia/Bahrain",
    "DEL": "Asia/Kolkata",
    "BOM": "Asia/Kolkata",
    "PVG": "Asia/Shanghai",
    "SHA": "Asia/Shanghai",
    "CAN": "Asia/Shanghai",
    "SZX": "Asia/Shanghai",
    "BJS": "Asia/Shanghai",
    "TPE": "Asia/Taipei",
    "ICN": "Asia/Seoul",
    "SEL": "Asia/Seoul",
    "TYO": "Asia/Tokyo",
    "NRT": "Asia/Tokyo",
    "BKK": "Asia/Bangkok",
    "KUL": "Asia/Kuala_Lumpur",
    "SYD": "Australia/Sydney",
    "MEL": "Australia/Melbourne",
    "PER": "Australia/Perth",
    "AKL": "Pacific/Auckland",
    "JNB": "Africa/Johannesburg",
    "CAI": "Africa/Cairo",
}


# Country names and ISO 3166 alpha-3 codes DHL writes at the end of service-area descriptions.
COUNTRY_NAMES: dict[str, str] = {
    "spain": "ES",
    "italy": "IT",
    "germany": "DE",
    "france": "FR",
    "belgium": "BE",
    "netherlands": "NL",
    "the netherlands": "NL",
    "luxembourg": "LU",
    "switzerland": "CH",
    "austria": "AT",
    "portugal": "PT",
    "united kingdom": "GB",
    "great britain": "GB",
    "ireland": "IE",
    "poland": "PL",
    "denmark": "DK",
    "sweden": "SE",
    "norway": "NO",
    "finland": "FI",
    "czech republic": "CZ",
    "greece": "GR",
    "turkey": "TR",
    "singapore": "SG",
    "hong kong": "HK",
    "china": "CN",
    "japan": "JP",
    "south korea": "KR",
    "korea, republic of": "KR",
    "india": "IN",
    "australia": "AU",
    "new zealand": "NZ",
    "united states": "US",
    "united states of america": "US",
    "canada": "CA",
    "mexico": "MX",
    "brazil": "BR",
    "jamaica": "JM",
    "morocco": "MA",
    "tunisia": "TN",
    "algeria": "DZ",
    "south africa": "ZA",
    "united arab emirates": "AE",
    "israel": "IL",
}


ISO3_COUNTRIES: dict[str, str] = {
    "USA": "US",
    "JAM": "JM",
    "FRA": "FR",
    "DEU": "DE",
    "ESP": "ES",
    "ITA": "IT",
    "BEL": "BE",
    "NLD": "NL",
    "GBR": "GB",
    "CHE": "CH",
    "PRT": "PT",
    "AUT": "AT",
    "POL": "PL",
    "IRL": "IE",
    "CAN": "CA",
    "MEX": "MX",
    "BRA": "BR",
    "CHN": "CN",
    "HKG": "HK",
    "SGP": "SG",
    "JPN": "JP",
    "KOR": "KR",
    "IND": "IN",
    "AUS": "AU",
    "NZL": "NZ",
    "ARE": "AE",
    "MAR": "MA",
    "TUN": "TN",
    "ZAF": "ZA",
}


# ISO 3166-1 alpha-2 codes, to tell "Brisbane-AU" (a country) from "Aix-en-Provence" (a city).
ISO2_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT
    ZA ZM ZW""".split()  # noqa: SIM905 - 249 codes read better as a block than a list
)
_COUNTRY_SUFFIX = re.compile(r"^(?P<place>.*?)\s*-\s*(?P<country>[^-]+?)\s*$")
_US_STATE_SUFFIX = re.compile(r"^(?P<city>.*?)\s*,\s*(?P<state>[A-Z]{2})$")
_GMT_OFFSET = re.compile(r"^(?:GMT|UTC)?\s*(?P<sign>[+-])(?P<hours>\d{1,2}):?(?P<minutes>\d{2})$")


_LOCAL_WITH_OFFSET = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)"
    r"(?:\s*(?:GMT|UTC)?\s*(?P<offset>[+-]\d{1,2}:?\d{2}))?$"
)


@dataclass(frozen=True)
class _Checkpoint:
    """One checkpoint as both formats give it, before classification."""

    occurred_at: datetime
    code: str
    description: str
    signatory: str
    location: Location
    zone: tzinfo


def _collapse(text: str) -> str:
    """XML-PI wraps descriptions over indented lines: one space between words."""
    return " ".join(text.split())


def _person(signatory: str) -> str:
    """A signatory is a name: DHL's account numbers, times and weights are not, nor a
    placeholder saying nobody signed (``base.signatory``)."""
    signatory = no_placeholder(_collapse(signatory))
    return signatory if any(c.isalpha() for c in signatory) else ""


def _country_of(part: str) -> str:
    part = part.strip()
    if part.upper() in ISO2_COUNTRIES and len(part) == 2:
        return part.upper()
    if part.upper() in ISO3_COUNTRIES:
        return ISO3_COUNTRIES[part.upper()]
    return COUNTRY_NAMES.get(part.casefold(), "")


def _place(description: str) -> tuple[str, str, str]:
    """(city, US state, country) of a service-area description.

    "Barcelona - Spain" -> Barcelona, ES; "KINGSTON-JAM" -> KINGSTON, JM; "SPRINGFIELD
    GARDENS,NY-USA" -> SPRINGFIELD GARDENS, NY, US; "New York, NY" -> New York, NY, US;
    "Hong Kong - Hong Kong" -> Hong Kong, HK. What does not end in a country is all city.
    """
    text = _collapse(description)
    city, country = text, ""
    match = _COUNTRY_SUFFIX.match(text)
    if match and _country_of(match.group("country")):
        city, country = match.group("place").strip(), _country_of(match.group("country"))
    state = ""
    state_match = _US_STATE_SUFFIX.match(city)
    if state_match and state_match.group("state") in US_STATE_ZONES and country in {"", "US"}:
        city, state, country = state_match.group("city").strip(), state_match.group("state"), "US"
    return city, state, country


def _area_location(code: str, description: str) -> tuple[Location, tzinfo]:
    city, state, country = _place(description)
    return Location(city=city, country=country), _zone(code, state, country)


def _zone(code: str, state: str, country: str) -> tzinfo:
    name = SERVICE_AREA_ZONES.get(code.strip().upper())
    if name:
        return ZoneInfo(name)
    return region_timezone(country, state)


def _service_area_zone(code: str, description: str) -> tzinfo:
    _city, state, country = _place(description)
    return _zone(code, state, country)


def _local_time(number: str, day: str, clock: str, zone: tzinfo) -> datetime:
    try:
        return parse_datetime(f"{day}T{clock}", default_tz=zone)
    except ValueError as exc:
        raise CarrierPayloadError(f"{COURIER} {number}: bad date/time {day!r} {clock!r}") from exc


def _offset_zone(number: str, value: str) -> tzinfo | None:
    """MyDHL's GMTOffset ("+09:00", "-0500") as a fixed zone; None when absent."""
    if not value:
        return None
    match = _GMT_OFFSET.match(value.strip())
    if not match:
        raise CarrierPayloadError(f"{COURIER} {number}: bad GMTOffset {value!r}")
    delta = timedelta(hours=int(match.group("hours")), minutes=int(match.group("minutes")))
    if delta >= timedelta(hours=15):
        raise CarrierPayloadError(f"{COURIER} {number}: bad GMTOffset {value!r}")
    return timezone(-delta if match.group("sign") == "-" else delta)


@dataclass(frozen=True)
class Reading:
    """One shipment as a format reads it: its checkpoints (oldest first) and the estimate, before
    the adapter classifies the checkpoints into events."""

    number: str
    checkpoints: list[_Checkpoint]
    estimated: date | datetime | None
