"""Behavioral-health coding: from one session's facts to claim lines (CONTRACT.md section 4).

Pure functions over frozen dataclasses; no database, no X12. :func:`code_session` turns a
:class:`Session` into a :class:`CodedClaim` with its lines, place of service, diagnoses, the holds
that come from coding and the warnings.

Choices where the contract is silent:

* Diagnoses are normalized to their dotted form (``F331`` -> ``F33.1``); a code listed twice is
  kept once (first place). Past 12 codes the first 12 are kept and the claim carries the warning
  ``DX_TRUNCATED``; the hold rules look at the 12 kept codes only. A session with no diagnosis at
  all is held ``DX_INVALID`` (an 837P claim needs a principal diagnosis).
* A code with no fee in the charge master (or a fee that is not positive) holds the claim
  ``FEE_MISSING``; its line is still built, with a charge of 0.00, so the operator sees it.
* A session held ``TIME_BELOW_MINIMUM`` has no lines. Its diagnoses are still checked against the
  code its service would have had (90832 for individual therapy and crisis, 90846/90847 for family
  therapy, H0004 for SUD counseling), so ``DX_NOT_SUPPORTING`` shows up in the same pass.
* Crisis under 30 minutes is coded as individual therapy by its minutes (16-29 minutes: 90832), and
  interactive complexity is then allowed beside the 90832 like any individual therapy.
* The credential modifier is looked up by the credential as written, then case-insensitively.
  The same modifier is never repeated on a line.
* A session whose H-code line has no F10-F19 code still points first to its first code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pipelines.rules import icd10

__all__ = [
    "ADDON_NOT_ALLOWED",
    "CODING_HOLD_ORDER",
    "DX_EXCLUDES1",
    "DX_INVALID",
    "DX_NOT_SUPPORTING",
    "DX_TRUNCATED",
    "FEE_MISSING",
    "INTERACTIVE_COMPLEXITY",
    "MAX_DIAGNOSES",
    "PSYCHOTHERAPY_CODES",
    "SERVICES",
    "TIME_BELOW_MINIMUM",
    "CodedClaim",
    "CodedLine",
    "PayerRules",
    "Session",
    "code_session",
    "session_minutes",
    "session_of",
]

# Hold reasons that come from coding, in the order they are reported.
DX_INVALID = "DX_INVALID"
DX_NOT_SUPPORTING = "DX_NOT_SUPPORTING"
DX_EXCLUDES1 = "DX_EXCLUDES1"
TIME_BELOW_MINIMUM = "TIME_BELOW_MINIMUM"
FEE_MISSING = "FEE_MISSING"
CODING_HOLD_ORDER = (DX_INVALID, DX_NOT_SUPPORTING, DX_EXCLUDES1, TIME_BELOW_MINIMUM, FEE_MISSING)

# Warnings.
ADDON_NOT_ALLOWED = "ADDON_NOT_ALLOWED"
DX_TRUNCATED = "DX_TRUNCATED"

MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_MODIFIERS = 4

INTERACTIVE_COMPLEXITY = "90785"
_IC_ALLOWED_BESIDE = frozenset(
    {"90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90853"}
)
# Psychotherapy codes as CONTRACT section 5 counts them (visit limits, code conflicts).
PSYCHOTHERAPY_CODES = frozenset(
    {"90832", "90833", "90834", "90836", "90837", "90838", "90846", "90847", "90849", "90853"}
)
# Lines that need an F-code among the diagnoses (psychotherapy, evaluation or crisis).
_NEEDS_F_CODE = frozenset(
    {"90791", "90792", "90832", "90833", "90834", "90836", "90837", "90838", "90839", "90840"}
    | {"90846", "90847", "90849", "90853"}
)

SERVICES = frozenset(
    {
        "diagnostic_evaluation",
        "diagnostic_evaluation_medical",
        "individual_therapy",
        "med_management",
        "med_management_with_therapy",
        "family_therapy_without_patient",
        "family_therapy_with_patient",
        "group_therapy",
        "multi_family_group",
        "crisis",
        "sud_assessment",
        "sud_individual_counseling",
        "sud_group_counseling",
        "sud_intensive_outpatient",
    }
)
_UNTIMED = {
    "diagnostic_evaluation": "90791",
    "diagnostic_evaluation_medical": "90792",
    "group_therapy": "90853",
    "multi_family_group": "90849",
    "sud_assessment": "H0001",
    "sud_group_counseling": "H0005",
    "sud_intensive_outpatient": "H0015",
}
_FAMILY = {"family_therapy_without_patient": "90846", "family_therapy_with_patient": "90847"}
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class PayerRules:
    """The coding and scrubbing rules of one ``[[payers]]`` entry of the configuration."""

    id: str
    telehealth_modifier: str = ""
    audio_only_modifier: str = ""
    credential_modifiers: Mapping[str, str] = field(default_factory=dict)
    auth_required: frozenset[str] = frozenset()
    visit_limit_per_year: int = 0
    timely_filing_days: int = 365


@dataclass(frozen=True)
class Session:
    """One encounter row, already type-checked by the importer. Diagnoses as written, in priority order."""

    encounter_id: str
    patient_id: str
    payer_id: str
    date_of_service: date
    start_time: time
    end_time: time
    service: str
    em_code: str | None
    therapy_minutes: int | None
    interactive_complexity: bool
    modality: str  # in_person, video, audio_only
    patient_location: str  # office, home, other
    rendering_npi: str
    rendering_credential: str
    diagnoses: tuple[str, ...]
    member_id: str
    authorization_number: str | None = None


def session_of(e: Any) -> Session:
    """The coding facts of a stored encounter (an ORM object or a row with the Encounter columns)."""
    # Positional, in the field order of Session: a keyword call costs more, and this runs per encounter.
    return Session(
        e.encounter_id, e.patient_id, e.payer_id, e.date_of_service, e.start_time, e.end_time, e.service,
        e.em_code, e.therapy_minutes, bool(e.interactive_complexity), e.modality, e.patient_location,
        e.rendering_npi, e.rendering_credential, tuple(e.diagnoses or ()), e.member_id or "",
        e.authorization_number)


@dataclass(frozen=True)
class CodedLine:
    """One service line: code, modifiers in slot order, units, charge and 1-based diagnosis pointers."""

    procedure: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    diagnosis_pointers: tuple[int, ...]


@dataclass(frozen=True)
class CodedClaim:
    """The coded session: lines in claim order, dotted diagnoses (principal first, at most 12)."""

    encounter_id: str
    lines: tuple[CodedLine, ...]
    place_of_service: str
    diagnoses: tuple[str, ...]
    holds: tuple[str, ...]
    warnings: tuple[str, ...]
    procedures: frozenset[str] = field(init=False, repr=False, compare=False)
    """The codes billed on the claim's lines (worked out once, when the claim is made: the scrubber asks often)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "procedures", frozenset([line.procedure for line in self.lines]))


def session_minutes(session: Session) -> int:
    """Minutes from start to end of the session; raises ValueError when the end is not after the start."""
    start = datetime.combine(session.date_of_service, session.start_time)
    end = datetime.combine(session.date_of_service, session.end_time)
    seconds = (end - start).total_seconds()
    if seconds <= 0:
        raise ValueError(f"encounter {session.encounter_id}: end_time is not after start_time")
    return int(seconds // 60)


def _individual_code(minutes: int) -> str | None:
    if minutes >= 53:
        return "90837"
    if minutes >= 38:
        return "90834"
    if minutes >= 16:
        return "90832"
    return None


def _therapy_addon(minutes: int) -> str | None:
    if minutes >= 53:
        return "90838"
    if minutes >= 38:
        return "90836"
    if minutes >= 16:
        return "90833"
    return None


def _procedures(session: Session) -> tuple[list[tuple[str, int]], str | None]:
    """The (code, units) of the primary and add-on lines, and the code a held session would have had.

    An empty list means the session is below its minimum time; the second value then names the
    code its diagnoses are checked against.
    """
    service = session.service
    if service in _UNTIMED:
        return [(_UNTIMED[service], 1)], None
    if service in ("med_management", "med_management_with_therapy"):
        if not session.em_code:
            raise ValueError(f"encounter {session.encounter_id}: {service} needs an em_code")
        lines = [(session.em_code, 1)]
        if service == "med_management_with_therapy":
            addon = _therapy_addon(session.therapy_minutes or 0)
            if addon:
                lines.append((addon, 1))
        return lines, None
    minutes = session_minutes(session)
    if service == "crisis" and minutes >= 30:
        lines = [("90839", 1)]
        if minutes >= 75:
            lines.append(("90840", (minutes - 75) // 30 + 1))
        return lines, None
    if service in ("individual_therapy", "crisis"):
        code = _individual_code(minutes)
        return ([(code, 1)], None) if code else ([], "90832")
    if service in _FAMILY:
        return ([(_FAMILY[service], 1)], None) if minutes >= 26 else ([], _FAMILY[service])
    if service == "sud_individual_counseling":
        return ([("H0004", (minutes + 7) // 15)], None) if minutes >= 8 else ([], "H0004")
    raise ValueError(f"encounter {session.encounter_id}: unknown service {service!r}")


def _place_of_service(session: Session) -> str:
    if session.modality == "in_person":
        return "11"
    return "10" if session.patient_location == "home" else "02"


def _modifiers(session: Session, payer: PayerRules) -> tuple[str, ...]:
    credential = payer.credential_modifiers.get(session.rendering_credential)
    if credential is None:
        wanted = session.rendering_credential.casefold()
        credential = next((m for c, m in payer.credential_modifiers.items() if c.casefold() == wanted), "")
    modality = session.modality
    telehealth = (payer.telehealth_modifier if modality == "video"
                  else payer.audio_only_modifier if modality == "audio_only" else "")
    if not credential and not telehealth:
        return ()
    filled = [m.strip() for m in (credential, telehealth) if m and m.strip()]
    return tuple(dict.fromkeys(filled))[:MAX_MODIFIERS]


def _is_sud_dx(code: str) -> bool:
    return code.startswith("F1") and code[2:3].isdigit()


@lru_cache(maxsize=4096)
def _pointers(procedure: str, diagnoses: tuple[str, ...]) -> tuple[int, ...]:
    if not diagnoses:
        return ()
    if procedure.startswith("H"):
        first = next((i for i, dx in enumerate(diagnoses) if _is_sud_dx(dx)), 0)
    else:
        first = next((i for i, dx in enumerate(diagnoses) if dx.startswith("F") and not _is_sud_dx(dx)), 0)
    rest = [i for i in range(len(diagnoses)) if i != first]
    return tuple(i + 1 for i in [first, *rest][:MAX_POINTERS])


@lru_cache(maxsize=4096)
def _supported(procedure: str, diagnoses: tuple[str, ...]) -> bool:
    if procedure.startswith("H"):
        return any(_is_sud_dx(dx) for dx in diagnoses)
    if procedure in _NEEDS_F_CODE:
        return any(dx.startswith("F") for dx in diagnoses)
    return True


@lru_cache(maxsize=4096)
def _diagnosis_facts(written: tuple[str, ...]) -> tuple[tuple[str, ...], bool, bool, bool]:
    """The diagnoses as a claim carries them (dotted, distinct, the first 12), and whether there were
    more than 12, whether a code is not billable (or none is given), whether an Excludes1 pair is among
    them. Remembered per list as written: a practice's sessions repeat a few diagnosis lists."""
    all_dx = list(dict.fromkeys(icd10.normalize(dx) for dx in written if dx.strip()))
    diagnoses = tuple(all_dx[:MAX_DIAGNOSES])
    invalid = not diagnoses or not all(icd10.is_billable(dx) for dx in diagnoses)
    return diagnoses, len(all_dx) > MAX_DIAGNOSES, invalid, bool(icd10.excludes1_pairs(diagnoses))


@lru_cache(maxsize=4096)
def _line(code: str, modifiers: tuple[str, ...], units: int, fee: Decimal | None,
          diagnoses: tuple[str, ...]) -> CodedLine:
    """One line (charged 0.00 when ``fee`` is None). Remembered: a practice's lines repeat, and a
    CodedLine is immutable, so claims may share one."""
    charge = Decimal("0.00") if fee is None else (Decimal(fee) * units).quantize(_CENTS)
    return CodedLine(code, modifiers, units, charge, _pointers(code, diagnoses))


def code_session(session: Session, payer: PayerRules, fees: Mapping[str, Decimal]) -> CodedClaim:
    """Code one session by CONTRACT section 4.

    Holds raised here: TIME_BELOW_MINIMUM, DX_INVALID, DX_NOT_SUPPORTING, DX_EXCLUDES1 and
    FEE_MISSING (a billed code with no positive fee in ``fees``; its line gets a 0.00 charge).
    Warnings: ADDON_NOT_ALLOWED (interactive complexity asked for beside a code it may not go with),
    DX_TRUNCATED (more than 12 distinct diagnoses; the first 12 are kept).
    Raises ValueError for a session the importer should have refused (unknown service, missing
    em_code for a med_management service, end not after start).
    """
    if session.service not in SERVICES:
        raise ValueError(f"encounter {session.encounter_id}: unknown service {session.service!r}")
    holds: set[str] = set()
    warnings: list[str] = []

    diagnoses, truncated, invalid, excluded = _diagnosis_facts(tuple(session.diagnoses))
    if truncated:
        warnings.append(DX_TRUNCATED)
    if invalid:
        holds.add(DX_INVALID)
    if excluded:
        holds.add(DX_EXCLUDES1)

    procedures, held_as = _procedures(session)
    if not procedures:
        holds.add(TIME_BELOW_MINIMUM)
    if session.interactive_complexity:
        beside = procedures[-1][0] if procedures else held_as
        if beside in _IC_ALLOWED_BESIDE:
            if procedures:
                procedures.append((INTERACTIVE_COMPLEXITY, 1))
        else:
            warnings.append(ADDON_NOT_ALLOWED)

    checked = [code for code, _ in procedures] or ([held_as] if held_as else [])
    if not all(_supported(code, diagnoses) for code in checked):
        holds.add(DX_NOT_SUPPORTING)

    modifiers = _modifiers(session, payer)
    lines: list[CodedLine] = []
    for code, units in procedures:
        fee = fees.get(code)
        if fee is None or fee <= 0:
            holds.add(FEE_MISSING)
            fee = None
        lines.append(_line(code, modifiers, units, fee, diagnoses))

    return CodedClaim(
        encounter_id=session.encounter_id,
        lines=tuple(lines),
        place_of_service=_place_of_service(session),
        diagnoses=diagnoses,
        holds=tuple(h for h in CODING_HOLD_ORDER if h in holds) if holds else (),
        warnings=tuple(warnings),
    )
