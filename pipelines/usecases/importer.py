"""`edi import encounters` and `edi import authorizations`: the practice's CSV files (CONTRACT section 2).

A file is read as UTF-8 (a byte-order mark is allowed), header row, RFC 4180 quoting. Missing
required columns make the whole file unusable (:class:`InputError`, exit 2); extra columns are
ignored with one warning naming them. Every row is checked before anything is stored
(validate-then-store): a bad row is reported with its line number, its id and what is wrong with
it (field names, never the values: they are PHI) and nothing of it is stored; the other rows go on.

Re-importing an encounter that has no submitted claim replaces it (its unsent claim is recoded at
the next submit); an encounter with a submitted claim is refused, unless that claim was rejected
by the clearinghouse or payer (999/277CA): then the corrected encounter goes out again as a new
claim at the next submit, or denied by the payer (835): then `edi denials resubmit CLAIM_ID` sends
the corrected encounter as a replacement claim (frequency 7). Re-importing an authorization
(same number, patient and payer) replaces it.

Choices where the contract is silent:

* Required encounter columns are every column of section 2 except the optional ones:
  subscriber_last_name, subscriber_first_name, subscriber_dob, subscriber_sex (needed only when
  relationship is not self), em_code, therapy_minutes, interactive_complexity, authorization_number.
* An encounter_id that appears twice in one file: the second row is refused.
* em_code must be one of 99202-99205, 99212-99215; therapy_minutes a whole number 0-999.
* patient_state is 2 letters, patient_zip 5 or 9 digits (a dash is allowed), rendering_npi at most
  10 characters (a wrong check digit is a hold, NPI_INVALID, not an import error).
* Diagnoses are stored normalized (dotted, upper case); an unknown code is a hold (DX_INVALID).
* Other coverage (CONTRACT section 7): the ``secondary_*`` and ``tertiary_*`` columns are optional;
  when any of a coverage's columns is filled, its payer and relationship are required and checked
  like the primary's (an empty member id is a hold on that payer's claim). A payer named twice on
  one encounter, or a tertiary coverage without a secondary, refuses the row. An encounter already
  submitted may be imported again when it changes only the secondary or tertiary coverage of a payer
  not billed yet (e.g. the member id a held secondary claim waits for): those columns are updated.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, select, tuple_, update
from sqlalchemy.orm import Session

from models import Authorization, Claim, Encounter, utcnow
from pipelines.config import Config
from pipelines.errors import InputError
from pipelines.logs import get_logger
from pipelines.rules import icd10
from pipelines.rules.coding import SERVICES
from pipelines.rules.lifecycle import UNSENT, ClaimStatus
from pipelines.usecases.bulk import chunks, collector_paused, copy_rows, in_list, is_pg
from pipelines.usecases.legs import coverage_changes
from pipelines.usecases.uow import UnitOfWork, xact_lock

__all__ = [
    "AUTHORIZATION_COLUMNS",
    "ENCOUNTER_COLUMNS",
    "ENCOUNTER_OPTIONAL",
    "ImportResult",
    "RowError",
    "import_authorizations",
    "import_encounters",
    "parse_authorization_row",
    "parse_encounter_row",
]

ENCOUNTER_COLUMNS: tuple[str, ...] = (
    "encounter_id", "patient_id", "patient_last_name", "patient_first_name", "patient_dob", "patient_sex",
    "patient_address", "patient_city", "patient_state", "patient_zip", "payer_id", "member_id",
    "relationship", "subscriber_last_name", "subscriber_first_name", "subscriber_dob", "subscriber_sex",
    "rendering_npi", "rendering_last_name", "rendering_first_name", "rendering_credential",
    "date_of_service", "start_time", "end_time", "service", "em_code", "therapy_minutes",
    "interactive_complexity", "modality", "patient_location", "diagnoses", "authorization_number",
)
OTHER_COVERAGE = ("secondary_", "tertiary_")
"""Prefixes of the optional other-coverage columns (CONTRACT section 7), in payer order."""
COVERAGE_FIELDS = ("payer_id", "member_id", "relationship", "subscriber_last_name", "subscriber_first_name",
                   "subscriber_dob", "subscriber_sex")
_COVERAGE_COLUMNS = {p: tuple(p + f for f in COVERAGE_FIELDS) for p in OTHER_COVERAGE}
ENCOUNTER_COLUMNS += tuple(c for columns in _COVERAGE_COLUMNS.values() for c in columns)
ENCOUNTER_OPTIONAL = frozenset({
    "subscriber_last_name", "subscriber_first_name", "subscriber_dob", "subscriber_sex", "em_code",
    "therapy_minutes", "interactive_complexity", "authorization_number",
    *(p + f for p in OTHER_COVERAGE for f in COVERAGE_FIELDS),
})
AUTHORIZATION_COLUMNS = ("authorization_number", "patient_id", "payer_id", "start_date", "end_date",
                         "visits_authorized", "service_codes")
AUTHORIZATION_OPTIONAL = frozenset({"service_codes"})

RELATIONSHIPS = ("self", "spouse", "child", "other")
SEXES = ("M", "F", "U")
MODALITIES = ("in_person", "video", "audio_only")
LOCATIONS = ("office", "home", "other")
EM_CODES = frozenset({"99202", "99203", "99204", "99205", "99212", "99213", "99214", "99215"})
MED_MANAGEMENT = frozenset({"med_management", "med_management_with_therapy"})

# Longest value each text column takes (the model's column sizes).
_MAX_LEN = {
    "encounter_id": 64, "patient_id": 64, "patient_last_name": 60, "patient_first_name": 35,
    "patient_address": 55, "patient_city": 30, "payer_id": 32, "member_id": 80,
    "subscriber_last_name": 60, "subscriber_first_name": 35, "rendering_npi": 10,
    "rendering_last_name": 60, "rendering_first_name": 35, "rendering_credential": 16,
    "authorization_number": 50,
    **{p + f: n for p in OTHER_COVERAGE for f, n in (("payer_id", 32), ("member_id", 80),
                                                      ("subscriber_last_name", 60), ("subscriber_first_name", 35))},
}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
_SERVICE_CODE = re.compile(r"^[A-Z0-9]{5}$")
EXTRA_FIELDS = "\x00extra"  # key marking a row with more fields than the header

CORRECTABLE = frozenset({*UNSENT, ClaimStatus.REJECTED, ClaimStatus.DENIED})
"""Claim states whose encounter may be re-imported with corrections."""

log = get_logger("edi")


class RowError(ValueError):
    """A row that cannot be stored; ``problems`` name the fields (never their values)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass
class ImportResult:
    """What one import did: rows stored (new or replaced) and rows refused, with why."""

    file: str
    inserted: int = 0
    replaced: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "inserted": self.inserted, "replaced": self.replaced,
                "rejected": len(self.errors), "ignored_columns": self.ignored_columns, "errors": self.errors}


# ------------------------------------------------------------------------------------------------
# Row checks (pure)
# ------------------------------------------------------------------------------------------------


class _Row:
    """Field access for one CSV row that collects problems instead of stopping at the first."""

    def __init__(self, row: Mapping[str, str | None]) -> None:
        self.row = row
        self.problems: list[str] = []

    def text(self, name: str, *, required: bool = True) -> str:
        value = (self.row.get(name) or "").strip()
        if required and not value:
            self.problems.append(f"{name} is empty")
        limit = _MAX_LEN.get(name)
        if limit is not None and len(value) > limit:
            self.problems.append(f"{name} is longer than {limit} characters")
        return value

    def date(self, name: str, *, required: bool = True) -> date | None:
        value = (self.row.get(name) or "").strip()
        if not value:
            if required:
                self.problems.append(f"{name} is empty")
            return None
        try:
            if len(value) != 10:
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.problems.append(f"{name} is not YYYY-MM-DD")
            return None

    def time(self, name: str) -> time | None:
        value = (self.row.get(name) or "").strip()
        m = _TIME.match(value)
        if not m:
            self.problems.append(f"{name} is not HH:MM (24-hour)" if value else f"{name} is empty")
            return None
        return time(int(m.group(1)), int(m.group(2)))

    def choice(self, name: str, allowed: Sequence[str], *, upper: bool = False, required: bool = True,
               default: str | None = None) -> str | None:
        value = (self.row.get(name) or "").strip()
        value = value.upper() if upper else value.lower()
        if not value:
            if default is not None:
                return default
            if required:
                self.problems.append(f"{name} is empty")
            return None
        if value not in allowed:
            self.problems.append(f"{name} is not one of {', '.join(allowed)}")
            return None
        return value

    def integer(self, name: str, *, low: int, high: int, required: bool = True) -> int | None:
        value = (self.row.get(name) or "").strip()
        if not value:
            if required:
                self.problems.append(f"{name} is empty")
            return None
        if not value.isdigit() or not low <= int(value) <= high:
            self.problems.append(f"{name} is not a whole number from {low} to {high}")
            return None
        return int(value)


def _check_shape(row: Mapping[str, str | None]) -> list[str]:
    problems = []
    if row.get(EXTRA_FIELDS):
        problems.append("the row has more fields than the header")
    if None in row.values():
        problems.append("the row has fewer fields than the header")
    return problems


def _patient(r: _Row, out: dict[str, Any], payer_ids: frozenset[str] | set[str]) -> None:
    """Patient, payer and subscriber columns."""
    for name in ("encounter_id", "patient_id", "patient_last_name", "patient_first_name", "patient_address",
                 "patient_city", "rendering_last_name", "rendering_first_name", "rendering_credential",
                 "rendering_npi"):
        out[name] = r.text(name)
    out["member_id"] = r.text("member_id", required=False)  # empty: hold MEMBER_ID_MISSING
    out["authorization_number"] = r.text("authorization_number", required=False) or None
    out["patient_dob"] = r.date("patient_dob")
    out["patient_sex"] = r.choice("patient_sex", SEXES, upper=True)
    state = r.text("patient_state").upper()
    if state and not (len(state) == 2 and state.isalpha()):
        r.problems.append("patient_state is not a 2-letter code")
    out["patient_state"] = state
    zipc = r.text("patient_zip")
    if zipc and not _ZIP.match(zipc):
        r.problems.append("patient_zip is not 5 or 9 digits")
    out["patient_zip"] = zipc.replace("-", "")
    payer = r.text("payer_id")
    if payer and payer not in payer_ids:
        r.problems.append("payer_id is not a payer in the configuration")
    out["payer_id"] = payer
    relationship = r.choice("relationship", RELATIONSHIPS)
    out["relationship"] = relationship
    if relationship is not None and relationship != "self":
        out["subscriber_last_name"] = r.text("subscriber_last_name")
        out["subscriber_first_name"] = r.text("subscriber_first_name")
        out["subscriber_dob"] = r.date("subscriber_dob")
        out["subscriber_sex"] = r.choice("subscriber_sex", SEXES, upper=True)
    else:
        out.update(subscriber_last_name=None, subscriber_first_name=None, subscriber_dob=None,
                   subscriber_sex=None)


def _other_coverage(r: _Row, out: dict[str, Any], payer_ids: frozenset[str] | set[str]) -> None:
    """The secondary and tertiary coverage columns: each checked like its primary counterpart when
    any of its columns is filled (all empty: no such coverage); a payer named twice on the encounter,
    or a tertiary without a secondary, is a problem."""
    seen = {out.get("payer_id"): "payer_id"}
    for prefix, columns in _COVERAGE_COLUMNS.items():
        if not any(map(str.strip, filter(None, map(r.row.get, columns)))):  # every column empty or blank
            out.update(dict.fromkeys(columns))
            continue
        if prefix == "tertiary_" and out.get("secondary_payer_id") is None:
            r.problems.append("tertiary_payer_id is given without a secondary_payer_id")
        payer = r.text(prefix + "payer_id")
        if payer and payer not in payer_ids:
            r.problems.append(f"{prefix}payer_id is not a payer in the configuration")
        elif payer and payer in seen:
            r.problems.append(f"{prefix}payer_id names the same payer as {seen[payer]}")
        seen.setdefault(payer, prefix + "payer_id")
        out[prefix + "payer_id"] = payer
        out[prefix + "member_id"] = r.text(prefix + "member_id", required=False)  # empty: hold MEMBER_ID_MISSING
        relationship = r.choice(prefix + "relationship", RELATIONSHIPS)
        out[prefix + "relationship"] = relationship
        subscriber = relationship is not None and relationship != "self"
        out[prefix + "subscriber_last_name"] = r.text(prefix + "subscriber_last_name") if subscriber else None
        out[prefix + "subscriber_first_name"] = r.text(prefix + "subscriber_first_name") if subscriber else None
        out[prefix + "subscriber_dob"] = r.date(prefix + "subscriber_dob") if subscriber else None
        out[prefix + "subscriber_sex"] = (r.choice(prefix + "subscriber_sex", SEXES, upper=True)
                                          if subscriber else None)


def _service(r: _Row, out: dict[str, Any]) -> None:
    """Date, times, service, E/M code, minutes, modality, location and diagnoses."""
    row = r.row
    out["date_of_service"] = r.date("date_of_service")
    start, end = r.time("start_time"), r.time("end_time")
    if start is not None and end is not None and end <= start:
        r.problems.append("end_time is not after start_time")
    out["start_time"], out["end_time"] = start, end
    service = (row.get("service") or "").strip().lower()
    if not service:
        r.problems.append("service is empty")
    elif service not in SERVICES:
        r.problems.append("service is not a known service")
    out["service"] = service
    em_code = (row.get("em_code") or "").strip()
    if service in MED_MANAGEMENT:
        if not em_code:
            r.problems.append(f"em_code is required for {service}")
        elif em_code not in EM_CODES:
            r.problems.append("em_code is not one of 99202-99205, 99212-99215")
    out["em_code"] = em_code if service in MED_MANAGEMENT and em_code else None
    out["therapy_minutes"] = (r.integer("therapy_minutes", low=0, high=999)
                              if service == "med_management_with_therapy" else None)
    out["interactive_complexity"] = r.choice("interactive_complexity", ("Y", "N"), upper=True, default="N") == "Y"
    out["modality"] = r.choice("modality", MODALITIES)
    out["patient_location"] = r.choice("patient_location", LOCATIONS)
    raw_dx = (row.get("diagnoses") or "").strip()
    diagnoses = list(dict.fromkeys(icd10.normalize(c) for c in raw_dx.split(";") if c.strip()))
    if not diagnoses:
        r.problems.append("diagnoses is empty")
    elif any(len(c) > 8 for c in diagnoses):
        r.problems.append("diagnoses has a value too long to be an ICD-10-CM code")
    out["diagnoses"] = diagnoses


def parse_encounter_row(row: Mapping[str, str | None], payer_ids: frozenset[str] | set[str]) -> dict[str, Any]:
    """The Encounter column values of one CSV row; raises :class:`RowError` naming every problem."""
    r = _Row(row)
    r.problems += _check_shape(row)
    out: dict[str, Any] = {}
    _patient(r, out, payer_ids)
    _other_coverage(r, out, payer_ids)
    _service(r, out)
    if r.problems:
        raise RowError(r.problems)
    return out


def parse_authorization_row(row: Mapping[str, str | None], payer_ids: frozenset[str] | set[str]) -> dict[str, Any]:
    """The Authorization column values of one CSV row; raises :class:`RowError` naming every problem."""
    r = _Row(row)
    r.problems += _check_shape(row)
    out: dict[str, Any] = {"authorization_number": r.text("authorization_number"),
                           "patient_id": r.text("patient_id")}
    payer = r.text("payer_id")
    if payer and payer not in payer_ids:
        r.problems.append("payer_id is not a payer in the configuration")
    out["payer_id"] = payer
    start, end = r.date("start_date"), r.date("end_date")
    if start is not None and end is not None and end < start:
        r.problems.append("end_date is before start_date")
    out["start_date"], out["end_date"] = start, end
    out["visits_authorized"] = r.integer("visits_authorized", low=0, high=100000)
    codes = [c.strip().upper() for c in (row.get("service_codes") or "").split(";") if c.strip()]
    if any(not _SERVICE_CODE.match(c) for c in codes):
        r.problems.append("service_codes has a value that is not a 5-character code")
    out["service_codes"] = list(dict.fromkeys(codes))
    if r.problems:
        raise RowError(r.problems)
    return out


# ------------------------------------------------------------------------------------------------
# Reading the file
# ------------------------------------------------------------------------------------------------


def _rows(path: Path, columns: Sequence[str], optional: frozenset[str], result: ImportResult, log: Any
          ) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line number, row) for every data row; checks the header first."""
    try:
        fh = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    with fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: the file is empty (a header row is needed)")
            names = [h.strip() for h in header]
            missing = [c for c in columns if c not in optional and c not in names]
            if missing:
                raise InputError(f"{path}: required columns missing: {', '.join(missing)}")
            dup = sorted({n for n in names if names.count(n) > 1 and n})
            if dup:
                raise InputError(f"{path}: columns appear twice: {', '.join(dup)}")
            extra = [n for n in names if n not in columns]
            if extra:
                result.ignored_columns = extra
                log.warning("csv_columns_ignored", file=path.name, columns=extra)
            known = [(i, n) for i, n in enumerate(names) if n in columns]
            width = len(names)
            every_column_known = len(known) == width
            line = reader.line_num + 1
            for record in reader:
                if not record or (len(record) == 1 and not record[0].strip()):
                    line = reader.line_num + 1
                    continue
                row: dict[str, str | None]
                if every_column_known and len(record) == width:  # the usual row: a plain zip
                    row = dict(zip(names, record, strict=True))
                else:
                    row = {n: (record[i] if i < len(record) else None) for i, n in known}
                if len(record) > width and any(v.strip() for v in record[width:]):
                    row[EXTRA_FIELDS] = "1"
                yield line, row
                line = reader.line_num + 1
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text (near line {reader.line_num + 1})") from None
        except csv.Error as exc:
            raise InputError(f"{path}: line {reader.line_num}: not valid CSV ({exc})") from None


def _reject(result: ImportResult, line: int, key: str, what: str, problems: Sequence[str]) -> None:
    result.errors.append({"line": line, what: key or None, "problems": list(problems)})
    log.warning("csv_row_rejected", file=Path(result.file).name, line=line, **{what: key or None},
                problems=len(problems))


def _good_encounters(path: Path, payer_ids: set[str], result: ImportResult) -> Iterator[dict[str, Any]]:
    """The encounter rows that pass every check, in file order; the others go to ``result.errors``.

    A generator, so a file of any size is read in step with storing it; it keeps only the ids seen
    (a repeated encounter_id is refused on its second row)."""
    first_line: dict[str, int] = {}
    for line, row in _rows(path, ENCOUNTER_COLUMNS, ENCOUNTER_OPTIONAL, result, log):
        key = (row.get("encounter_id") or "").strip()
        try:
            values = parse_encounter_row(row, payer_ids)
        except RowError as exc:
            _reject(result, line, key, "encounter_id", exc.problems)
            continue
        if key in first_line:
            _reject(result, line, key, "encounter_id",
                    [f"encounter_id appears twice in the file (first on line {first_line[key]})"])
            continue
        first_line[key] = line
        values.update(source_file=path.name, source_line=line)
        yield values


IMPORT_CHUNK = 5000
"""Encounter rows checked and stored per step: memory stays flat whatever the file's size."""


def _store_encounters(session: Session, good: list[dict[str, Any]], result: ImportResult, now: datetime) -> None:
    """Store one chunk of good rows: new ones COPY'd (PostgreSQL) or inserted, known ones replaced,
    those with a submitted claim refused."""
    pg = is_pg(session)
    ids = [v["encounter_id"] for v in good]
    existing = set(session.scalars(select(Encounter.encounter_id).where(in_list(Encounter.encounter_id, ids, pg))))
    submitted = dict(session.execute(
        select(Claim.encounter_id, Claim.claim_id)
        .where(in_list(Claim.encounter_id, sorted(existing), pg), Claim.status.notin_(sorted(CORRECTABLE))))
        .all()) if existing else {}
    new: list[dict[str, Any]] = []
    old: list[dict[str, Any]] = []
    # a submitted encounter may still get the coverage of a payer not billed yet (CONTRACT section 7)
    late = coverage_changes(session, [v for v in good if v["encounter_id"] in submitted]) if submitted else {}
    for values in good:
        key = values["encounter_id"]
        if key in late:
            continue
        if key in submitted:
            _reject(result, values["source_line"], key, "encounter_id",
                    [f"encounter_id was already submitted (claim {submitted[key]}); it is not replaced"])
            continue
        values["imported_at"] = now
        (old if key in existing else new).append(values)
    if new and pg:
        cols = list(new[0])
        copy_rows(session, Encounter, cols, [[v[c] for c in cols] for v in new])
    elif new:
        session.execute(insert(cast(Table, Encounter.__table__)), new)
    for chunk in chunks(old):
        session.execute(update(Encounter), list(chunk))
    for changes in late.values():
        session.execute(update(Encounter), [changes])
    result.inserted += len(new)
    result.replaced += len(old) + len(late)


_IMPORT_LOCK = 0x45444949
"""The first key of the lock imports of one kind take in turn ("EDII", see :func:`_import_lock`)."""


def _import_lock(session: Session, kind: str) -> None:
    """Imports of one kind take turns (:func:`pipelines.usecases.uow.xact_lock`): the same file
    imported twice at once would otherwise fail in the second on rows the first was inserting; in
    turn, the second replaces them, as when run one after the other."""
    xact_lock(session, _IMPORT_LOCK, kind.encode())


def import_encounters(config: Config, uow: UnitOfWork, path: str | Path) -> ImportResult:
    """Validate every row of an encounters CSV and store the good ones, all in one transaction.

    Rows are checked and stored :data:`IMPORT_CHUNK` at a time (the first chunk is read before the
    transaction opens, so a file that cannot be read fails before the database is touched)."""
    path = Path(path)
    result = ImportResult(str(path))
    good = _good_encounters(path, set(config.payers), result)
    chunk = list(islice(good, IMPORT_CHUNK))
    now = utcnow()
    with uow.transaction() as session:
        _import_lock(session, "encounters")
        while chunk:
            with collector_paused():  # one chunk's objects are freed by reference counting
                _store_encounters(session, chunk, result, now)
                chunk = list(islice(good, IMPORT_CHUNK))
    result.errors.sort(key=lambda e: int(e["line"]))
    log.info("encounters_imported", file=path.name, inserted=result.inserted, replaced=result.replaced,
             rejected=len(result.errors))
    return result


def import_authorizations(config: Config, uow: UnitOfWork, path: str | Path) -> ImportResult:
    """Validate every row of an authorizations CSV, then store (or replace) the good ones."""
    path = Path(path)
    result = ImportResult(str(path))
    payer_ids = set(config.payers)
    good: dict[tuple[str, str, str], dict[str, Any]] = {}
    for line, row in _rows(path, AUTHORIZATION_COLUMNS, AUTHORIZATION_OPTIONAL, result, log):
        key = (row.get("authorization_number") or "").strip()
        try:
            values = parse_authorization_row(row, payer_ids)
        except RowError as exc:
            _reject(result, line, key, "authorization_number", exc.problems)
            continue
        good[(values["authorization_number"], values["patient_id"], values["payer_id"])] = values
    now = utcnow()
    with uow.transaction() as session:
        _import_lock(session, "authorizations")
        existing: dict[tuple[str, str, str], int] = {}
        for chunk in chunks(list(good), 500):
            rows = session.execute(
                select(Authorization.authorization_number, Authorization.patient_id, Authorization.payer_id,
                       Authorization.id)
                .where(tuple_(Authorization.authorization_number, Authorization.patient_id,
                              Authorization.payer_id).in_(list(chunk))))
            existing.update({(n, p, y): i for n, p, y, i in rows})
        new = [v | {"imported_at": now} for k, v in good.items() if k not in existing]
        old = [v | {"imported_at": now, "id": existing[k]} for k, v in good.items() if k in existing]
        for chunk in chunks(new):
            session.execute(insert(cast(Table, Authorization.__table__)), list(chunk))
        for chunk in chunks(old):
            session.execute(update(Authorization), list(chunk))
        result.inserted, result.replaced = len(new), len(old)
    result.errors.sort(key=lambda e: int(e["line"]))
    log.info("authorizations_imported", file=path.name, inserted=result.inserted, replaced=result.replaced,
             rejected=len(result.errors))
    return result
