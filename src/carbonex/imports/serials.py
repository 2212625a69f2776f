"""Serial numbers of carbon registries: parse a block's serial string, and format it back.

Pure functions over frozen dataclasses. Every parser returns the block's first and last serial
plus the fields the string encodes; `format_*(parse_*(text)) == text` for well-formed text.
Malformed text raises `SerialFormatError` (a `ValueError`) saying which part is wrong, quoting
it shortened (`carbonex.text.shortened`: a serial of any length gives a short message).

Layouts:

* Verra, 13 fields (current):
  `16257-751880934-751881360-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0`
  batch, first, last, programme (VCS), unit type (VCU), methodology code, origin (VER), host
  country, sectoral scope, project id, vintage start and end (DDMMYYYY), additional-issuance flag.
* Verra, 12 fields (older, no programme field):
  `8157-461579453-461579783-VCU-008-MER-SG-3-1712-01012018-31122018-0`
  as above without `VCS`; the origin field names the legacy registry (MER = Markit, APX).
* Gold Standard: `GS1-1-IN-GS2446-16-2019-19573-1-100`
  registry prefix (`GS<n>-<n>`), host country, project (`GS<digits>`), credit-type code, vintage
  year, issuance batch, first serial, last serial. Our reading of GS's public serials; the
  meaning of the credit-type code is kept as an opaque number.
* CDM (Kyoto DES unit identifier): `IN-5-123456789-2-2-0-1234` (one unit) or
  `IN-5-123456789-123456799-2-2-0-1234` (a block): originating Party, unit type code (5 = CER),
  first serial [, last serial], original and applicable commitment period, LULUCF activity,
  project id.
* CCER: `CCER-<project>-<vintage year>-<batch>-<first>-<last>`, e.g.
  `CCER-000123-2023-1-1-5000`. China's registry publishes no serial layout we could check;
  this is a documented assumption, not a reproduction of a real export.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from carbonex.text import shortened

SERIAL_DIGITS_MAX = 19
"""Digits of a serial number (a signed 64-bit integer has 19)."""
VERRA_FIELDS_CURRENT = 13
VERRA_FIELDS_OLDER = 12
CDM_FIELDS_SINGLE = 7
CDM_FIELDS_BLOCK = 8
GS_FIELDS = 9
CCER_FIELDS = 6
VERRA_DATE_FORMAT = "%d%m%Y"

_NUMBER = re.compile(rf"[0-9]{{1,{SERIAL_DIGITS_MAX}}}")
_CODE = re.compile(r"[A-Z0-9.]+")
_COUNTRY = re.compile(r"[A-Z]{2}")


class SerialFormatError(ValueError):
    """A serial string does not follow its registry's layout."""


@dataclass(frozen=True, slots=True)
class VerraSerial:
    batch: int
    first_serial: int
    last_serial: int
    unit_type: str
    methodology_code: str
    origin: str
    country: str
    sectoral_scope: int
    project_id: int
    vintage_start: dt.date
    vintage_end: dt.date
    additional_flag: int
    programme: str | None = "VCS"
    """`VCS` in the 13-field layout, None in the older 12-field one."""

    @property
    def quantity(self) -> int:
        return self.last_serial - self.first_serial + 1


@dataclass(frozen=True, slots=True)
class GoldStandardSerial:
    prefix: str
    country: str
    project_id: str
    credit_type: int
    vintage_year: int
    batch: int
    first_serial: int
    last_serial: int


@dataclass(frozen=True, slots=True)
class CdmSerial:
    party: str
    unit_type_code: int
    first_serial: int
    last_serial: int
    original_period: int
    applicable_period: int
    lulucf_activity: int
    project_id: int


@dataclass(frozen=True, slots=True)
class CcerSerial:
    project_id: str
    vintage_year: int
    batch: int
    first_serial: int
    last_serial: int


def _number(text: str, what: str, serial: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise SerialFormatError(
            f"{what} {shortened(text)!r} is not a number in serial {shortened(serial)!r}"
        )
    return int(text)


def _code(text: str, pattern: re.Pattern[str], what: str, serial: str) -> str:
    if not pattern.fullmatch(text):
        raise SerialFormatError(
            f"{what} {shortened(text)!r} is malformed in serial {shortened(serial)!r}"
        )
    return text


def _range(first: int, last: int, serial: str) -> tuple[int, int]:
    if first < 1 or last < first:
        raise SerialFormatError(
            f"serial range {first}-{last} is empty or not positive: {shortened(serial)!r}"
        )
    return first, last


def _verra_date(text: str, what: str, serial: str) -> dt.date:
    try:
        if len(text) != len("DDMMYYYY") or not text.isdigit():
            raise ValueError(text)
        # DDMMYYYY sliced by hand: strptime costs several microseconds per call, and an import
        # parses two dates per row; dt.date still refuses an impossible day or month.
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError as error:
        raise SerialFormatError(
            f"{what} {shortened(text)!r} is not a DDMMYYYY date in serial {shortened(serial)!r}"
        ) from error


def _fields(text: str, counts: tuple[int, ...], registry: str) -> list[str]:
    fields = text.strip().split("-")
    if len(fields) not in counts:
        expected = " or ".join(str(count) for count in counts)
        raise SerialFormatError(
            f"{registry} serial {shortened(text)!r} has {len(fields)} dash-separated fields, "
            f"expected {expected}"
        )
    return fields


def parse_verra(text: str) -> VerraSerial:
    fields = _fields(text, (VERRA_FIELDS_CURRENT, VERRA_FIELDS_OLDER), "Verra")
    programme: str | None = None
    if len(fields) == VERRA_FIELDS_CURRENT:
        programme = _code(fields.pop(3), _CODE, "programme", text)
    first, last = _range(
        _number(fields[1], "first serial", text), _number(fields[2], "last", text), text
    )
    vintage_start = _verra_date(fields[9], "vintage start", text)
    vintage_end = _verra_date(fields[10], "vintage end", text)
    if vintage_end < vintage_start:
        raise SerialFormatError(f"vintage ends before it starts in serial {shortened(text)!r}")
    return VerraSerial(
        batch=_number(fields[0], "issuance batch", text),
        first_serial=first,
        last_serial=last,
        unit_type=_code(fields[3], _CODE, "unit type", text),
        methodology_code=_code(fields[4], _CODE, "methodology code", text),
        origin=_code(fields[5], _CODE, "origin", text),
        country=_code(fields[6], _COUNTRY, "country", text),
        sectoral_scope=_number(fields[7], "sectoral scope", text),
        project_id=_number(fields[8], "project id", text),
        vintage_start=vintage_start,
        vintage_end=vintage_end,
        additional_flag=_number(fields[11], "additional-issuance flag", text),
        programme=programme,
    )


def format_verra(serial: VerraSerial) -> str:
    fields = [str(serial.batch), str(serial.first_serial), str(serial.last_serial)]
    if serial.programme is not None:
        fields.append(serial.programme)
    fields += [
        serial.unit_type,
        serial.methodology_code,
        serial.origin,
        serial.country,
        str(serial.sectoral_scope),
        str(serial.project_id),
        serial.vintage_start.strftime(VERRA_DATE_FORMAT),
        serial.vintage_end.strftime(VERRA_DATE_FORMAT),
        str(serial.additional_flag),
    ]
    return "-".join(fields)


_GS_PREFIX = re.compile(r"GS[0-9]+")
_GS_PROJECT = re.compile(r"GS[0-9]+")


def parse_gold_standard(text: str) -> GoldStandardSerial:
    fields = _fields(text, (GS_FIELDS,), "Gold Standard")
    prefix = _code(fields[0], _GS_PREFIX, "registry prefix", text)
    first, last = _range(
        _number(fields[7], "first serial", text), _number(fields[8], "last", text), text
    )
    return GoldStandardSerial(
        prefix=f"{prefix}-{_number(fields[1], 'registry prefix version', text)}",
        country=_code(fields[2], _COUNTRY, "country", text),
        project_id=_code(fields[3], _GS_PROJECT, "project id", text),
        credit_type=_number(fields[4], "credit type", text),
        vintage_year=_number(fields[5], "vintage year", text),
        batch=_number(fields[6], "issuance batch", text),
        first_serial=first,
        last_serial=last,
    )


def format_gold_standard(serial: GoldStandardSerial) -> str:
    return "-".join(
        [
            serial.prefix,
            serial.country,
            serial.project_id,
            str(serial.credit_type),
            str(serial.vintage_year),
            str(serial.batch),
            str(serial.first_serial),
            str(serial.last_serial),
        ]
    )


def parse_cdm(text: str) -> CdmSerial:
    fields = _fields(text, (CDM_FIELDS_SINGLE, CDM_FIELDS_BLOCK), "CDM")
    if len(fields) == CDM_FIELDS_SINGLE:
        fields.insert(3, fields[2])
    first, last = _range(
        _number(fields[2], "first serial", text), _number(fields[3], "last", text), text
    )
    return CdmSerial(
        party=_code(fields[0], _COUNTRY, "originating Party", text),
        unit_type_code=_number(fields[1], "unit type code", text),
        first_serial=first,
        last_serial=last,
        original_period=_number(fields[4], "original commitment period", text),
        applicable_period=_number(fields[5], "applicable commitment period", text),
        lulucf_activity=_number(fields[6], "LULUCF activity", text),
        project_id=_number(fields[7], "project id", text),
    )


def format_cdm(serial: CdmSerial) -> str:
    serials = [str(serial.first_serial)]
    if serial.last_serial != serial.first_serial:
        serials.append(str(serial.last_serial))
    fields = [serial.party, str(serial.unit_type_code), *serials]
    fields += [
        str(serial.original_period),
        str(serial.applicable_period),
        str(serial.lulucf_activity),
        str(serial.project_id),
    ]
    return "-".join(fields)


_CCER_PROJECT = re.compile(r"[0-9]{1,12}")


def parse_ccer(text: str) -> CcerSerial:
    fields = _fields(text, (CCER_FIELDS,), "CCER")
    if fields[0] != "CCER":
        raise SerialFormatError(f"CCER serial {shortened(text)!r} must start with 'CCER-'")
    first, last = _range(
        _number(fields[4], "first serial", text), _number(fields[5], "last", text), text
    )
    return CcerSerial(
        project_id=_code(fields[1], _CCER_PROJECT, "project id", text),
        vintage_year=_number(fields[2], "vintage year", text),
        batch=_number(fields[3], "issuance batch", text),
        first_serial=first,
        last_serial=last,
    )


def format_ccer(serial: CcerSerial) -> str:
    return "-".join(
        [
            "CCER",
            serial.project_id,
            str(serial.vintage_year),
            str(serial.batch),
            str(serial.first_serial),
            str(serial.last_serial),
        ]
    )
