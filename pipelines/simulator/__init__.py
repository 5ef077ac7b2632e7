"""`edi simulate`: a clearinghouse and its payers, answering what we put in the mailbox.

For every file in the mailbox's upload folder the simulator reads the X12 we sent and writes into
the download folder what a clearinghouse and the payers behind it would send back; the file is
then moved to ``upload/archive/`` (the clearinghouse took it):

* every file: a 999 per functional group (a set that is broken, e.g. a wrong SE count or a
  missing required segment, is rejected); a file whose interchange cannot be read gets a TA1 R;
* 837P: a 277CA per file (each claim A1/A2 with a payer claim number, or A7 when the member id
  looks invalid or the claim does not add up), then an 835 per payer that pays the accepted
  claims by the payer's fee schedule (allowed = a fixed share of the charge per payer and code,
  CO 45 for the difference, PR 3 copay or PR 2 coinsurance) and denies what a payer would:
  an authorization it does not know (CO 197, N54), a visit over the plan's yearly limit (CO 119,
  N362), a service already paid (OA 18, N111), and now and then no medical necessity (CO 50, M25);
  an occasional PLB L6 interest; every 835 balances exactly (sum CLP04 - PLB = BPR02);
* 270: a 271 per 270 set (active mental-health coverage with copay, visit limit and the codes
  that need authorization; a small deterministic share inactive), echoing our TRN trace;
* 276: a 277 per 276 set, with each claim's status as the simulator adjudicated it.

It is deterministic: every chance (a medical-necessity denial, an inactive member, interest on
a payment, the fee schedule's share per code) is a stable hash of the seed and what it is about
(the claim and line control number, the member, the payer and code, the trace number), never
the global random generator and never the file's envelope dates, so the same claims get the same
answers however they are batched and whenever they were written. What a payer must
remember between files (visits per member and year, services paid, claim outcomes, counters)
lives in ``simulator_state.json`` in the mailbox root. ``fixtures=DIR`` answers instead by copying
every X12 file of DIR into the download folder once (clearinghouse integration testing).

The simulator needs no database and no configuration: it only reads the X12 it is given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from edi.errors import EdiError, EnvelopeError
from edi.x12 import FunctionalGroup, Interchange, InterchangeSpec, Segment, TransactionSet, open_x12
from edi.x271 import Benefit, BenefitDate, EligibilityResponse, Limit, Member, Rejection, Trace, build_271
from edi.x271 import Party as Party271
from edi.x277 import ClaimStatus, ClaimStatusReport, Person, ProviderStatus, Status, build_277, build_277ca
from edi.x277 import Party as Party277
from edi.x835 import (
    Adjustment,
    ClaimPayment,
    Name,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
    build_835,
)
from edi.x835 import Party as Party835
from edi.x999 import GroupAck, SegmentError, Ta1, TransactionAck, build_999, build_ta1
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from transports.local import LocalMailbox

__all__ = ["DEFAULT_RULES", "PSYCHOTHERAPY_CODES", "STATE_FILE", "PayerRules", "SimResult", "cmd_simulate",
           "payer_rules_from_config", "simulate_mailbox"]

STATE_FILE = "simulator_state.json"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PSYCHOTHERAPY_CODES = frozenset({"90832", "90833", "90834", "90836", "90837", "90838", "90846", "90847",
                                 "90849", "90853"})
_MEMBER_ID = re.compile(r"^[A-Z0-9]{6,20}$")


@dataclass(frozen=True)
class PayerRules:
    """What one payer knows and does; keyed by the payer id we send (2010BB NM109)."""

    name: str = ""
    visit_limit_per_year: int = 30  # psychotherapy visits per member and calendar year; 0 = none
    auth_required: frozenset[str] = frozenset({"90837", "H0015"})
    known_auths: frozenset[str] | None = None  # None: every number not in unknown_auths is known
    unknown_auths: frozenset[str] = frozenset({"UNKNOWN", "PENDING", "NONE"})
    allowed_share: Decimal = Decimal("0.75")  # fee schedule: allowed = charge x share (+/- 5% by code)
    copay: Decimal = Decimal("25.00")  # PR 3, once per claim
    coinsurance: Decimal = Decimal("0")  # PR 2, share of the allowed amount (0.20 = 20%)
    insurance_type: str = "PR"  # 271 EB04
    necessity_denial_rate: float = 0.04  # share of lines denied CO 50
    inactive_rate: float = 0.05  # share of members a 271 reports inactive
    interest_rate: float = 0.25  # share of 835s with a PLB L6 interest payment

    def knows_auth(self, number: str | None) -> bool:
        if not number:
            return False
        if number.upper() in self.unknown_auths:
            return False
        return self.known_auths is None or number in self.known_auths


DEFAULT_RULES = PayerRules()


@dataclass(frozen=True)
class SimResult:
    """What one simulator pass did: files answered, answer files written, and counts."""

    answered: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"answered": list(self.answered), "written": list(self.written), "counts": dict(self.counts)}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _stable(*parts: object) -> int:
    """A stable 64-bit hash of ``parts`` (Python's hash() is salted per process)."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts``."""
    return _stable(*parts) / 2.0**64


def _money(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    return value.quantize(CENT) if value.is_finite() else None


def _q(d: Decimal) -> Decimal:
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def _d8(text: str) -> date | None:
    text = text.split("-")[0]
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _el(seg: Segment, i: int) -> str:
    return seg[i].strip() if len(seg) > i else ""


def valid_member_id(member_id: str | None) -> bool:
    """A member id a payer's front end accepts: 6-20 letters or digits, not one repeated character."""
    m = (member_id or "").upper()
    return bool(_MEMBER_ID.match(m)) and len(set(m)) > 1


# --------------------------------------------------------------------------------------------
# State kept between files
# --------------------------------------------------------------------------------------------


class _State:
    """The JSON state file in the mailbox root; written atomically after each answered file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data: dict[str, Any] = {}
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
        self.counters: dict[str, int] = data.get("counters", {})
        self.visits: dict[str, int] = data.get("visits", {})
        self.paid_services: dict[str, str] = data.get("paid_services", {})
        self.claims: dict[str, dict[str, Any]] = data.get("claims", {})
        self.fixtures_copied: list[str] = data.get("fixtures_copied", [])

    def next(self, name: str) -> int:
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]

    def save(self) -> None:
        data = {"version": 1, "counters": self.counters, "visits": self.visits,
                "paid_services": self.paid_services, "claims": self.claims,
                "fixtures_copied": self.fixtures_copied}
        tmp = self.path.with_name("." + self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------------------------
# Reading what we sent
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: date | None
    control_number: str | None
    auth: str | None


@dataclass(frozen=True)
class _Claim:
    claim_id: str
    charge: Decimal
    place_of_service: str
    frequency: str
    auth: str | None
    original_payer_claim_number: str | None
    payer_id: str
    payer_name: str
    filing_indicator: str
    member_id: str
    subscriber_name: tuple[str, str]
    patient_name: tuple[str, str] | None  # None: the subscriber is the patient
    lines: tuple[_Line, ...]

    @property
    def service_dates(self) -> tuple[date | None, date | None]:
        days = [ln.service_date for ln in self.lines if ln.service_date is not None]
        return (min(days), max(days)) if days else (None, None)

    @property
    def patient(self) -> tuple[str, str]:
        return self.patient_name or self.subscriber_name


@dataclass(frozen=True)
class _Batch:
    reference: str
    submitter_name: str
    submitter_id: str
    receiver_name: str
    billing_name: str
    billing_npi: str
    billing_tax_id: str
    claims: tuple[_Claim, ...]


class _Broken(Exception):
    """A transaction set the clearinghouse rejects: the 999 IK3/IK5 content."""

    def __init__(self, segment_errors: Sequence[SegmentError], codes: Sequence[str] = ("5",)) -> None:
        super().__init__("rejected")
        self.segment_errors = tuple(segment_errors)
        self.codes = tuple(codes)


def _missing(segment_id: str, position: int, loop: str | None) -> SegmentError:
    return SegmentError(segment_id=segment_id, position=position, loop_id=loop, code="3")


def _read_837(segments: list[Segment], comp: str) -> _Batch:
    head: dict[str, str] = {}
    claims: list[_Claim] = []
    sub: dict[str, Any] = {}
    claim: dict[str, Any] | None = None
    line: dict[str, Any] | None = None
    errors: list[SegmentError] = []

    def close_line() -> None:
        nonlocal line
        if claim is not None and line is not None:
            if "procedure" not in line:
                errors.append(_missing("SV1", line["pos"], "2400"))
            else:
                claim["lines"].append(_Line(line["procedure"], line["modifiers"], line["charge"], line["units"],
                                            line.get("date"), line.get("control"), line.get("auth")))
        line = None

    def close_claim() -> None:
        nonlocal claim
        close_line()
        if claim is None:
            return
        if not claim["has_hi"]:
            errors.append(_missing("HI", claim["pos"], "2300"))
        if not claim["lines"]:
            errors.append(_missing("LX", claim["pos"], "2400"))
        if not sub.get("payer_id"):
            errors.append(_missing("NM1", claim["pos"], "2010"))
        claims.append(_Claim(
            claim_id=claim["id"], charge=claim["charge"], place_of_service=claim["pos_code"],
            frequency=claim["freq"], auth=claim.get("auth"), original_payer_claim_number=claim.get("f8"),
            payer_id=sub.get("payer_id", ""), payer_name=sub.get("payer_name", ""),
            filing_indicator=sub.get("filing", ""), member_id=sub.get("member_id", ""),
            subscriber_name=sub.get("name", ("", "")), patient_name=sub.get("patient"),
            lines=tuple(claim["lines"])))
        claim = None

    for pos, seg in enumerate(segments, 1):
        sid = seg[0]
        if sid == "BHT":
            head["reference"] = _el(seg, 3)
        elif sid == "NM1":
            entity = _el(seg, 1)
            if entity == "41":
                head["submitter_name"], head["submitter_id"] = _el(seg, 3), _el(seg, 9)
            elif entity == "40":
                head["receiver_name"] = _el(seg, 3)
            elif entity == "85":
                head["billing_name"], head["billing_npi"] = _el(seg, 3), _el(seg, 9)
            elif entity == "IL":
                sub["name"], sub["member_id"] = (_el(seg, 3), _el(seg, 4)), _el(seg, 9)
            elif entity == "QC":
                sub["patient"] = (_el(seg, 3), _el(seg, 4))
            elif entity == "PR":
                sub["payer_name"], sub["payer_id"] = _el(seg, 3), _el(seg, 9)
        elif sid == "HL":
            close_claim()
            if _el(seg, 3) == "22":
                sub = {}
            elif _el(seg, 3) == "23":
                sub.pop("patient", None)
        elif sid == "SBR":
            sub["filing"] = _el(seg, 9)
        elif sid == "REF" and _el(seg, 1) == "EI" and "billing_tax_id" not in head:
            head["billing_tax_id"] = _el(seg, 2)
        elif sid == "CLM":
            close_claim()
            comp_pos = _el(seg, 5).split(comp)
            charge = _money(_el(seg, 2))
            if not _el(seg, 1) or charge is None:
                errors.append(SegmentError("CLM", pos, "2300", "8"))
                charge = ZERO
            claim = {"id": _el(seg, 1), "charge": charge, "pos_code": comp_pos[0],
                     "freq": comp_pos[2] if len(comp_pos) > 2 else "1", "lines": [], "has_hi": False, "pos": pos}
        elif claim is not None:
            if sid == "HI":
                claim["has_hi"] = True
            elif sid == "REF" and _el(seg, 1) == "G1":
                (line if line is not None else claim)["auth"] = _el(seg, 2)
            elif sid == "REF" and _el(seg, 1) == "F8":
                claim["f8"] = _el(seg, 2)
            elif sid == "LX":
                close_line()
                line = {"pos": pos}
            elif sid == "SV1" and line is not None:
                proc = _el(seg, 1).split(comp)
                charge = _money(_el(seg, 2))
                units = _money(_el(seg, 4) or "1")
                if len(proc) < 2 or charge is None or units is None:
                    errors.append(SegmentError("SV1", pos, "2400", "8"))
                    continue
                line.update(procedure=proc[1], modifiers=tuple(m for m in proc[2:6] if m), charge=charge,
                            units=units.normalize())
            elif sid == "DTP" and _el(seg, 1) == "472" and line is not None:
                line["date"] = _d8(_el(seg, 3))
            elif sid == "REF" and _el(seg, 1) == "6R" and line is not None:
                line["control"] = _el(seg, 2)
    close_claim()
    for key, sid, loop in (("reference", "BHT", None), ("submitter_id", "NM1", "1000"),
                           ("billing_npi", "NM1", "2010")):
        if not head.get(key):
            errors.append(_missing(sid, 1, loop))
    if not claims:
        errors.append(_missing("CLM", len(segments), "2300"))
    if errors:
        raise _Broken(errors)
    return _Batch(reference=head["reference"], submitter_name=head.get("submitter_name", ""),
                  submitter_id=head["submitter_id"], receiver_name=head.get("receiver_name", ""),
                  billing_name=head.get("billing_name", ""), billing_npi=head["billing_npi"],
                  billing_tax_id=head.get("billing_tax_id", ""), claims=tuple(claims))


@dataclass
class _Person:
    level: str  # subscriber or dependent
    last: str
    first: str
    member_id: str
    trace: tuple[str, str] | None = None  # TRN02, TRN03
    birth_date: date | None = None
    gender: str | None = None
    service_types: list[str] = field(default_factory=list)
    # 276 only
    claim_id: str | None = None
    payer_claim_number: str | None = None
    charge: Decimal | None = None
    service_from: date | None = None
    service_to: date | None = None


@dataclass
class _Inquiry:
    """A 270 or 276 set: payer, receiver, provider and the people asked about, in order."""

    reference: str = ""
    payer_name: str = ""
    payer_id: str = ""
    receiver_name: str = ""
    receiver_id: str = ""
    provider_name: str = ""
    provider_npi: str = ""
    people: list[_Person] = field(default_factory=list)


def _read_inquiry(segments: list[Segment], set_id: str) -> _Inquiry:
    q = _Inquiry()
    errors: list[SegmentError] = []
    person: _Person | None = None
    subscriber: _Person | None = None
    pending: dict[str, Any] = {}
    for seg in segments:
        sid = seg[0]
        if sid == "BHT":
            q.reference = _el(seg, 3)
        elif sid == "HL":
            person = None
            level = _el(seg, 3)
            pending = {"level": "subscriber" if level == "22" else "dependent" if level == "23" else ""}
        elif sid == "NM1":
            entity = _el(seg, 1)
            if entity == "PR":
                q.payer_name, q.payer_id = _el(seg, 3), _el(seg, 9)
            elif entity == "41":
                q.receiver_name, q.receiver_id = _el(seg, 3), _el(seg, 9)
            elif entity == "1P":
                q.provider_name, q.provider_npi = _el(seg, 3), _el(seg, 9)
                if set_id == "270":
                    q.receiver_name, q.receiver_id = q.provider_name, q.provider_npi
            elif entity in ("IL", "03", "QC") and pending.get("level"):
                person = _Person(pending["level"], _el(seg, 3), _el(seg, 4), _el(seg, 9),
                                 trace=pending.get("trace"), birth_date=pending.get("dob"),
                                 gender=pending.get("sex"))
                if person.level == "subscriber":
                    subscriber = person
                elif subscriber is not None:
                    person.member_id = person.member_id or subscriber.member_id
                q.people.append(person)
        elif sid == "TRN":
            trace = (_el(seg, 2), _el(seg, 3))
            if person is not None:
                person.trace = trace
            else:
                pending["trace"] = trace
        elif sid == "DMG":
            dob, sex = _d8(_el(seg, 2)), _el(seg, 3) or None
            if person is not None:
                person.birth_date, person.gender = dob, sex
            else:
                pending["dob"], pending["sex"] = dob, sex
        elif person is not None:
            if sid == "EQ":
                person.service_types.append(_el(seg, 1))
            elif sid == "REF" and _el(seg, 1) == "EJ":
                person.claim_id = _el(seg, 2)
            elif sid == "REF" and _el(seg, 1) == "1K":
                person.payer_claim_number = _el(seg, 2)
            elif sid == "AMT" and _el(seg, 1) == "T3":
                person.charge = _money(_el(seg, 2))
            elif sid == "DTP" and _el(seg, 1) in ("472", "291"):
                days = _el(seg, 3).split("-")
                person.service_from = _d8(days[0])
                person.service_to = _d8(days[-1])
    if not q.payer_id:
        errors.append(_missing("NM1", 1, "2100"))
    if not q.reference:
        errors.append(_missing("BHT", 1, None))
    asked = [p for p in q.people if p.trace is not None]
    if not asked:
        errors.append(_missing("TRN", len(segments), "2000"))
    if errors:
        raise _Broken(errors)
    return q


# --------------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------------


@dataclass
class _Set:
    ts_set_id: str
    control_number: str
    implementation: str
    segments: list[Segment]
    comp: str
    findings: list[str]


@dataclass
class _Group:
    group: FunctionalGroup
    sets: list[_Set] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


class _FileBroken(Exception):
    def __init__(self, note: str) -> None:
        super().__init__(note)
        self.note = note


def _isa_ids(data: bytes) -> tuple[str, str, str]:
    """(ISA06 sender, ISA08 receiver, ISA13 control number) read loosely from a file's start."""
    head = data.lstrip()[:120].decode("latin-1")
    if head.startswith("ISA") and len(head) > 4:
        parts = head.split(head[3])
        if len(parts) > 13:
            control = parts[13].strip()
            return (parts[6].strip() or "SUBMITTER", parts[8].strip() or "CLEARINGHOUSE",
                    control if control.isdigit() and len(control) <= 9 else "0")
    return "SUBMITTER", "CLEARINGHOUSE", "0"


def _read_file(data: bytes) -> tuple[Interchange, list[_Group]]:
    """The interchange and its groups; _FileBroken (with a TA1 note code) when it cannot be read."""
    env = open_x12(data, strict=False)
    groups: list[_Group] = []
    by_id: dict[int, _Group] = {}
    last: _Group | None = None

    def take(start: int) -> None:
        for f in env.findings[start:]:
            if f.segment_id == "IEA":
                raise _FileBroken("001" if f.element == 2 else "021")
            if last is not None:  # GE: 3 trailer missing, 4 control number, 5 count
                last.findings.append({0: "3", 2: "4"}.get(f.element, "5"))

    try:
        it: Iterator[TransactionSet] = iter(env)
        while True:
            n0 = len(env.findings)
            try:
                ts = next(it)
            except StopIteration:
                take(n0)
                break
            take(n0)
            g = by_id.get(id(ts.group))
            if g is None:
                g = by_id[id(ts.group)] = _Group(ts.group)
                groups.append(g)
            last = g
            n1 = len(env.findings)
            segs = list(ts.segments)
            # SE: 2 trailer missing, 3 control number, 4 count
            tx_findings = [{0: "2", 2: "3"}.get(f.element, "4") for f in env.findings[n1:]]
            g.sets.append(_Set(ts.set_id, ts.control_number, ts.implementation, segs[1:-1] if segs and
                               segs[-1][0] == "SE" else segs[1:], ts.delimiters.component, tx_findings))
    except EnvelopeError:
        raise _FileBroken("024") from None
    except EdiError:
        raise _FileBroken("022") from None
    if not env.interchanges:
        raise _FileBroken("023")
    if len(env.interchanges) > 1:
        raise _FileBroken("024")  # one interchange per file is what this clearinghouse takes
    return env.interchanges[0], groups


class _Simulator:
    def __init__(self, box: LocalMailbox, state: _State, *, download_dir: str, seed: int, as_of: date,
                 payers: Mapping[str, PayerRules]) -> None:
        self.box = box
        self.state = state
        self.download_dir = download_dir
        self.seed = seed
        self.as_of = as_of
        self.created = datetime.combine(as_of, time(12, 0))
        self.payers = payers
        self.counts: dict[str, int] = {}
        self.written: list[str] = []

    # -- bookkeeping -----------------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def rules(self, payer_id: str) -> PayerRules:
        return self.payers.get(payer_id, DEFAULT_RULES)

    def write(self, kind: str, stem: str, text: str) -> None:
        name = f"{self.state.next('file'):06d}_{kind}_{stem}.x12"
        self.box.put(self.download_dir, name, text.encode("latin-1"))
        self.written.append(name)
        self.count(f"files_{kind}")

    def isa(self, sender: str, receiver: str) -> InterchangeSpec:
        return InterchangeSpec(sender_id=sender[:15], receiver_id=receiver[:15], date=f"{self.created:%y%m%d}",
                               time=f"{self.created:%H%M}", control_number=self.state.next("isa"))

    # -- one file --------------------------------------------------------------------------------
    def answer(self, name: str, data: bytes) -> None:
        stem = Path(name).stem
        try:
            isa, groups = _read_file(data)
        except _FileBroken as exc:
            sender, receiver, control = _isa_ids(data)
            text = build_ta1(Ta1(control, self.as_of, f"{self.created:%H%M}", "R", exc.note),
                             interchange=self.isa(receiver, sender))
            self.write("TA1", stem, text)
            self.count("files_rejected")
            return
        us, them = isa.sender_id, isa.receiver_id
        acks: list[GroupAck] = []
        accepted: list[tuple[str, _Set, Any]] = []
        for g in groups:
            txs: list[TransactionAck] = []
            for s in g.sets:
                ack, parsed = self._check_set(s)
                txs.append(ack)
                if ack.accepted and not g.findings:
                    accepted.append((s.ts_set_id, s, parsed))
            if g.findings:
                txs = [TransactionAck(t.set_id, t.control_number, "R", t.implementation, t.error_codes,
                                      t.segment_errors) for t in txs]
                acks.append(GroupAck(g.group.functional_id, g.group.control_number, "R", len(txs), len(txs), 0,
                                     g.group.version, tuple(txs), tuple(dict.fromkeys(g.findings))))
            elif txs:
                acks.append(GroupAck.of(g.group.functional_id, g.group.control_number, g.group.version, txs))
        if acks:
            self.write("999", stem, build_999(acks, interchange=self.isa(them, us),
                                              group_control_number=self.state.next("gs")))
        if any(a.code == "R" for a in acks):
            self.count("files_rejected")
        batches = [p for sid, _s, p in accepted if sid == "837"]
        inquiries = [p for sid, _s, p in accepted if sid == "270"]
        statuses = [p for sid, _s, p in accepted if sid == "276"]
        if batches:
            self._answer_837(batches, them, us, stem)
        if inquiries:
            self._answer_270(inquiries, them, us, stem)
        if statuses:
            self._answer_276(statuses, them, us, stem)

    def _check_set(self, s: _Set) -> tuple[TransactionAck, Any]:
        impl = s.implementation or None
        if s.findings:
            return TransactionAck(s.ts_set_id, s.control_number, "R", impl, tuple(dict.fromkeys(s.findings))), None
        try:
            if s.ts_set_id == "837":
                parsed: Any = _read_837(s.segments, s.comp)
            elif s.ts_set_id in ("270", "276"):
                parsed = _read_inquiry(s.segments, s.ts_set_id)
            else:
                return TransactionAck(s.ts_set_id, s.control_number, "R", impl, ("1",)), None
        except _Broken as exc:
            # positions in a 999 count from ST = 1; the reader counted from the segment after ST
            errs = tuple(SegmentError(e.segment_id, e.position + 1, e.loop_id, e.code, e.elements)
                         for e in exc.segment_errors)
            return TransactionAck(s.ts_set_id, s.control_number, "R", impl, exc.codes, errs), None
        return TransactionAck(s.ts_set_id, s.control_number, "A", impl), parsed

    # -- 837P: 277CA and 835 ---------------------------------------------------------------------
    def _front_end(self, c: _Claim) -> Status | None:
        """The clearinghouse/payer front-end edit: a rejection status, or None when accepted."""
        if not valid_member_id(c.member_id):
            return Status("A7", "164", "IL", self.as_of, "U", c.charge)
        if sum((ln.charge for ln in c.lines), ZERO) != c.charge:
            return Status("A7", "400", None, self.as_of, "U", c.charge)
        if not c.payer_id:
            return Status("A7", "116", "PR", self.as_of, "U", c.charge)
        return None

    def _answer_837(self, batches: list[_Batch], clearinghouse: str, us: str, stem: str) -> None:
        reports: list[ClaimStatusReport] = []
        to_pay: dict[str, list[tuple[_Batch, _Claim, str]]] = {}
        for b in batches:
            claims: list[ClaimStatus] = []
            for c in b.claims:
                first, last = c.service_dates
                patient = Person(c.patient[0], c.patient[1] or None, c.member_id or None)
                reject = self._front_end(c)
                ch_trace = f"SIM{self.state.next('ch_trace'):08d}"
                if reject is not None:
                    claims.append(ClaimStatus(c.claim_id, (reject,), patient, clearinghouse_trace=ch_trace,
                                              service_date=first or self.as_of, service_date_end=last))
                    self.state.claims[c.claim_id] = {"status": "rejected", "payer_id": c.payer_id,
                                                     "charge": str(c.charge)}
                    self.count("claims_rejected")
                    continue
                pcn = f"{self.as_of:%y%j}{self.state.next('pcn'):06d}"
                claims.append(ClaimStatus(
                    c.claim_id, (Status("A1", "19", "PR", self.as_of, "WQ", c.charge),
                                 Status("A2", "20", "PR", self.as_of, "WQ", c.charge)),
                    patient, payer_claim_number=pcn, clearinghouse_trace=ch_trace,
                    service_date=first or self.as_of, service_date_end=last))
                self.state.claims[c.claim_id] = {"status": "accepted", "payer_id": c.payer_id,
                                                 "payer_claim_number": pcn, "charge": str(c.charge)}
                self.count("claims_accepted")
                to_pay.setdefault(c.payer_id, []).append((b, c, pcn))
            total = sum((c.charge for c in b.claims), ZERO)
            provider_total = sum((c.charge for c in b.claims), ZERO)
            reports.append(ClaimStatusReport(
                source=Party277(b.receiver_name or "CLEARINGHOUSE", clearinghouse, "46"),
                receiver=Party277(b.submitter_name or us, b.submitter_id or us, "46"),
                providers=(ProviderStatus(Party277(b.billing_name, b.billing_npi, "XX"), tuple(claims), trace="0",
                                          statuses=(Status("A1", "19", "PR", None, "WQ", provider_total),)),),
                created=self.as_of, created_time=f"{self.created:%H%M}",
                reference=f"277CA{self.state.next('277ca'):06d}",
                source_trace=f"SIMB{self.state.counters['277ca']:06d}", receipt_date=self.as_of,
                process_date=self.as_of, receiver_trace=b.reference,
                receiver_statuses=(Status("A1", "19", "PR", self.as_of, "WQ", total),)))
        self.write("277CA", stem, build_277ca(reports, interchange=self.isa(clearinghouse, us),
                                              group_control_number=self.state.next("gs")))
        for payer_id, items in to_pay.items():
            self._pay(payer_id, items, clearinghouse, us, stem)

    def _reverse(self, original_pcn: str | None, claim_id: str) -> ClaimPayment | None:
        """A reversal (CLP02 22) of the claim a replacement or void refers to, if it was paid."""
        if not original_pcn:
            return None
        for cid, info in self.state.claims.items():
            if info.get("payer_claim_number") == original_pcn and info.get("status") in ("paid", "denied") \
                    and not info.get("reversed") and cid != claim_id:
                info["reversed"] = True
                for key in info.get("services", []):
                    self.state.paid_services.pop(key, None)
                if info.get("visit_key"):
                    self.state.visits[info["visit_key"]] = max(0, self.state.visits.get(info["visit_key"], 1) - 1)
                lines = tuple(ServiceLine(
                    procedure=ln["procedure"], charge=-Decimal(ln["charge"]), paid=-Decimal(ln["paid"]),
                    modifiers=tuple(ln["modifiers"]), units=Decimal(ln["units"]),
                    line_control_number=ln["control"],
                    adjustments=tuple(Adjustment(a[0], a[1], -Decimal(a[2])) for a in ln["adjustments"]))
                    for ln in info.get("lines", []))
                return ClaimPayment(
                    claim_id=cid, status_code="22", charge=-Decimal(info["charge"]), paid=-Decimal(info["paid"]),
                    patient_responsibility=-Decimal(info.get("patient_responsibility", "0")),
                    filing_indicator=info.get("filing", "12"), payer_claim_number=original_pcn, lines=lines)
        return None

    def _adjudicate(self, c: _Claim, pcn: str, rules: PayerRules) -> ClaimPayment:
        year = (c.service_dates[0] or self.as_of).year
        visit_key = f"{c.payer_id}|{c.member_id}|{c.patient[0]}|{c.patient[1]}|{year}"
        therapy = any(ln.procedure in PSYCHOTHERAPY_CODES for ln in c.lines)
        over_limit = False
        counted = False
        lines: list[ServiceLine] = []
        services: list[str] = []
        copay_left = rules.copay
        for ln in c.lines:
            day = ln.service_date or self.as_of
            key = f"{c.payer_id}|{c.member_id}|{c.patient[0]}|{c.patient[1]}|{day}|{ln.procedure}"
            denial: tuple[str, str, str] | None = None
            if ln.procedure in rules.auth_required and not rules.knows_auth(ln.auth or c.auth):
                denial = ("CO", "197", "N54")
            elif key in self.state.paid_services:
                denial = ("OA", "18", "N111")
            elif ln.procedure in PSYCHOTHERAPY_CODES and rules.visit_limit_per_year:
                if not counted:
                    counted = True
                    used = self.state.visits.get(visit_key, 0)
                    over_limit = used >= rules.visit_limit_per_year
                    if not over_limit:
                        self.state.visits[visit_key] = used + 1
                if over_limit:
                    denial = ("CO", "119", "N362")
            if denial is None and _unit(self.seed, "necessity", c.payer_id, c.claim_id,
                                        ln.control_number or ln.procedure) < rules.necessity_denial_rate:
                denial = ("CO", "50", "M25")
            if denial is not None:
                group, reason, remark = denial
                lines.append(ServiceLine(
                    procedure=ln.procedure, charge=ln.charge, paid=ZERO, modifiers=ln.modifiers, units=ln.units,
                    dates=(("472", day),), line_control_number=ln.control_number,
                    adjustments=(Adjustment(group, reason, ln.charge),), remarks=(remark,)))
                self.count(f"lines_denied_{group}_{reason}")
                continue
            share = rules.allowed_share + Decimal(_stable(self.seed, c.payer_id, ln.procedure) % 11 - 5) / 100
            allowed = min(ln.charge, _q(ln.charge * share))
            adjs: list[Adjustment] = []
            if ln.charge > allowed:
                adjs.append(Adjustment("CO", "45", ln.charge - allowed))
            patient = ZERO
            if copay_left > 0:
                patient = min(copay_left, allowed)
                copay_left -= patient
                if patient:
                    adjs.append(Adjustment("PR", "3", patient))
            elif rules.coinsurance > 0:
                patient = _q(allowed * rules.coinsurance)
                if patient:
                    adjs.append(Adjustment("PR", "2", patient))
            lines.append(ServiceLine(
                procedure=ln.procedure, charge=ln.charge, paid=allowed - patient, modifiers=ln.modifiers,
                units=ln.units, dates=(("472", day),), line_control_number=ln.control_number,
                adjustments=tuple(adjs), amounts=(("B6", allowed),)))
            self.state.paid_services[key] = c.claim_id
            services.append(key)
        paid = sum((ln.paid for ln in lines), ZERO)
        pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), ZERO)
        status_code = "1" if paid > 0 or pr > 0 else "4"
        filing = {"MC": "MC", "MB": "MB", "MA": "MA", "CH": "CH", "HM": "HM", "BL": "12"}.get(c.filing_indicator, "12")
        patient_name = Name("QC", "1", c.patient[0], c.patient[1], id_qualifier="MI" if not c.patient_name else "",
                            id=c.member_id if not c.patient_name else "")
        insured = (Name("IL", "1", c.subscriber_name[0], c.subscriber_name[1], id_qualifier="MI", id=c.member_id)
                   if c.patient_name else None)
        claim = ClaimPayment(
            claim_id=c.claim_id, status_code=status_code, charge=c.charge, paid=paid, patient_responsibility=pr,
            filing_indicator=filing, payer_claim_number=pcn, facility_code=c.place_of_service,
            frequency_code=c.frequency, patient=patient_name, insured=insured,
            dates=(("050", self.as_of),), lines=tuple(lines))
        self.state.claims[c.claim_id].update({
            "status": "paid" if paid > 0 or pr > 0 else "denied", "paid": str(paid),
            "patient_responsibility": str(pr), "filing": filing, "adjudicated": self.as_of.isoformat(),
            "services": services, "visit_key": visit_key if counted and not over_limit and therapy else None,
            "lines": [{"procedure": ln.procedure, "modifiers": list(ln.modifiers), "charge": str(ln.charge),
                       "paid": str(ln.paid), "units": str(ln.units), "control": ln.line_control_number,
                       "adjustments": [[a.group, a.reason, str(a.amount)] for a in ln.adjustments]}
                      for ln in lines]})
        self.count("claims_paid" if paid > 0 else "claims_patient_responsibility" if pr > 0 else "claims_denied")
        return claim

    def _pay(self, payer_id: str, items: list[tuple[_Batch, _Claim, str]], clearinghouse: str, us: str,
             stem: str) -> None:
        rules = self.rules(payer_id)
        payments: list[ClaimPayment] = []
        for _b, c, pcn in items:
            if c.frequency in ("7", "8"):
                reversal = self._reverse(c.original_payer_claim_number, c.claim_id)
                if reversal is not None:
                    payments.append(reversal)
                    self.count("claims_reversed")
            if c.frequency == "8":
                self.state.claims[c.claim_id].update(status="void", paid="0.00")
                continue
            payments.append(self._adjudicate(c, pcn, rules))
        if not payments:
            return
        b = items[0][0]
        n = self.state.next("trace")
        trace = f"{self.as_of:%y%m%d}{n:06d}"
        total = sum((p.paid for p in payments), ZERO)
        plb: list[ProviderAdjustment] = []
        paid_claims = [p for p in payments if p.paid > 0 and p.status_code != "22"]
        if paid_claims and _unit(self.seed, "interest", payer_id, trace) < rules.interest_rate:
            interest = Decimal(25 + _stable(self.seed, "interest", trace) % 426) / 100
            plb.append(ProviderAdjustment(b.billing_npi, date(self.as_of.year, 12, 31), "L6",
                                          paid_claims[0].payer_claim_number, -interest))
            self.count("interest_payments")
        amount = total - sum((a.amount for a in plb), ZERO)
        tax = f"{_stable('payer-tax', payer_id) % 10**9:09d}"
        if amount > 0:
            payment = Payment(amount=amount, credit_debit="C", method="ACH", date=self.as_of, trace_number=trace,
                              payer_tax_id="1" + tax, handling="C", format="CCP", sender_dfi_qualifier="01",
                              sender_dfi_id="999999992", sender_account_qualifier="DA", sender_account="10002000",
                              originator_company_id="1" + tax, receiver_dfi_qualifier="01",
                              receiver_dfi_id="999988880", receiver_account_qualifier="DA",
                              receiver_account="30004000")
        else:
            payment = Payment(amount=abs(amount), credit_debit="C" if amount >= 0 else "D", method="NON",
                              date=self.as_of, trace_number=trace, payer_tax_id="1" + tax, handling="H")
        name = rules.name or next((c.payer_name for _b, c, _p in items if c.payer_name), payer_id)
        for p in payments:
            info = self.state.claims.get(p.claim_id)
            if info is not None and p.status_code != "22":
                info["trace"] = trace
        remittance = Remittance835(
            payment=payment,
            payer=Party835("PR", name.upper()[:60], address=("PO BOX 1000",), city="HARTFORD", state="CT",
                           postal_code="06101", references=(("2U", payer_id),)),
            payee=Party835("PE", b.billing_name, "XX", b.billing_npi,
                           references=(("TJ", b.billing_tax_id),) if b.billing_tax_id else ()),
            claims=tuple(payments), provider_adjustments=tuple(plb), production_date=self.as_of)
        text = build_835(remittance, sender_id=clearinghouse, receiver_id=us,
                         interchange_control_number=self.state.next("isa"),
                         group_control_number=self.state.next("gs"), created=self.created)
        self.write("835", f"{stem}_{payer_id}", text)
        self.count("remittances")
        self.count("paid_cents", int(amount * 100))

    # -- 270: 271 --------------------------------------------------------------------------------
    def _benefits(self, rules: PayerRules, p: _Person, payer_id: str) -> tuple[list[BenefitDate], list[Benefit]]:
        year = self.as_of.year
        plan = [BenefitDate("346", date(year, 1, 1)), BenefitDate("347", date(year, 12, 31))]
        if _unit(self.seed, "inactive", payer_id, p.member_id, p.last, p.first) < rules.inactive_rate:
            self.count("members_inactive")
            return ([BenefitDate("346", date(year - 1, 1, 1)), BenefitDate("347", date(year - 1, 12, 31))],
                    [Benefit("6", "IND", ("30",), rules.insurance_type)])
        self.count("members_active")
        out = [Benefit("1", "IND", ("30",), rules.insurance_type, "BEHAVIORAL HEALTH PLAN"),
               Benefit("1", "IND", ("MH",))]
        if rules.copay:
            out.append(Benefit("B", "IND", ("MH",), time_period="27", amount=rules.copay, network_indicator="Y",
                               messages=("COPAY APPLIES PER SESSION",)))
        if rules.coinsurance:
            out.append(Benefit("A", "IND", ("MH",), time_period="27", percent=rules.coinsurance,
                               network_indicator="Y"))
        if rules.visit_limit_per_year:
            limit = Decimal(rules.visit_limit_per_year)
            used = self.state.visits.get(f"{payer_id}|{p.member_id}|{p.last}|{p.first}|{year}", 0)
            out.append(Benefit("F", "IND", ("MH",), time_period="23", quantity_qualifier="VS", quantity=limit,
                               limits=(Limit("VS", limit, time_period="23"),),
                               messages=("OUTPATIENT PSYCHOTHERAPY VISITS PER CALENDAR YEAR",)))
            out.append(Benefit("F", "IND", ("MH",), time_period="29", quantity_qualifier="VS",
                               quantity=max(Decimal(0), limit - used)))
        for code in sorted(rules.auth_required):
            out.append(Benefit("1", "IND", ("MH",), auth_indicator="Y", network_indicator="Y",
                               procedure=("HC", code), messages=(f"PRIOR AUTHORIZATION REQUIRED FOR {code}",)))
        for st in dict.fromkeys(p.service_types):
            if st not in ("30", "MH"):
                out.append(Benefit("1", "IND", (st,)))
        return plan, out

    def _answer_270(self, inquiries: list[_Inquiry], clearinghouse: str, us: str, stem: str) -> None:
        responses: list[EligibilityResponse] = []
        for q in inquiries:
            rules = self.rules(q.payer_id)
            members: list[Member] = []
            for p in q.people:
                traces: list[Trace] = []
                dates: list[BenefitDate] = []
                benefits: list[Benefit] = []
                rejections: list[Rejection] = []
                if p.trace is not None:
                    traces.append(Trace("2", p.trace[0], p.trace[1] or "1000000000"))
                    traces.append(Trace("1", f"{self.as_of:%Y%m%d}-{self.state.next('eligibility'):05d}",
                                        "9" + f"{_stable('payer-tax', q.payer_id) % 10**9:09d}"))
                    self.count("inquiries")
                    if not valid_member_id(p.member_id):
                        rejections.append(Rejection("72", "C", "2100C" if p.level == "subscriber" else "2100D"))
                        self.count("members_rejected")
                    else:
                        dates, benefits = self._benefits(rules, p, q.payer_id)
                members.append(Member(
                    level=p.level, last_name=p.last, first_name=p.first or None,
                    member_id=(p.member_id or None) if p.level == "subscriber" else None,
                    id_qualifier="MI" if p.level == "subscriber" and p.member_id else None,
                    traces=tuple(traces), birth_date=p.birth_date if p.trace else None,
                    gender=p.gender if p.trace else None, dates=tuple(dates), benefits=tuple(benefits),
                    rejections=tuple(rejections)))
            responses.append(EligibilityResponse(
                source=Party271(rules.name.upper() or q.payer_name, q.payer_id, "PI", "PR", "2"),
                receiver=Party271(q.receiver_name, q.receiver_id, "XX", "1P", "2"), members=tuple(members),
                created=self.as_of, created_time=f"{self.created:%H%M}", reference=q.reference))
        self.write("271", stem, build_271(responses, interchange=self.isa(clearinghouse, us),
                                          group_control_number=self.state.next("gs")))

    # -- 276: 277 --------------------------------------------------------------------------------
    def _status(self, claim_id: str | None, charge: Decimal | None) -> tuple[Status, str | None]:
        info = self.state.claims.get(claim_id or "")
        if info is None or info.get("status") == "rejected":
            self.count("status_unknown")
            return Status("A4", "35", None, self.as_of, charge=charge), None
        pcn = info.get("payer_claim_number")
        charge = Decimal(info["charge"])
        if info["status"] in ("paid", "denied") and not info.get("reversed"):
            day = date.fromisoformat(info["adjudicated"])
            paid = Decimal(info.get("paid", "0"))
            if info["status"] == "paid":
                self.count("status_paid")
                return Status("F1", "65", None, self.as_of, charge=charge, payment=paid, finalized_date=day,
                              payment_method="ACH", remittance_date=day, remittance_trace=info.get("trace")), pcn
            self.count("status_denied")
            return Status("F2", "654", None, self.as_of, charge=charge, payment=ZERO, finalized_date=day), pcn
        self.count("status_pending")
        return Status("P1", "20", None, self.as_of, charge=charge), pcn

    def _answer_276(self, inquiries: list[_Inquiry], clearinghouse: str, us: str, stem: str) -> None:
        reports: list[ClaimStatusReport] = []
        for q in inquiries:
            claims: list[ClaimStatus] = []
            subscriber: _Person | None = None
            for p in q.people:
                if p.level == "subscriber":
                    subscriber = p
                if p.trace is None:
                    continue
                claim_id = p.claim_id or p.trace[0]
                status, pcn = self._status(claim_id, p.charge)
                if p.level == "dependent" and subscriber is not None:
                    sub = Person(subscriber.last, subscriber.first or None, subscriber.member_id or None)
                    patient = Person(p.last, p.first or None)
                else:
                    sub, patient = None, Person(p.last, p.first or None, p.member_id or None)
                claims.append(ClaimStatus(p.trace[0], (status,), patient, subscriber=sub,
                                          patient_control_number=claim_id,
                                          payer_claim_number=pcn or p.payer_claim_number,
                                          service_date=p.service_from, service_date_end=p.service_to))
            reports.append(ClaimStatusReport(
                source=Party277(self.rules(q.payer_id).name.upper() or q.payer_name, q.payer_id, "PI"),
                receiver=Party277(q.receiver_name or us, q.receiver_id or us, "46"),
                providers=(ProviderStatus(Party277(q.provider_name, q.provider_npi, "XX"), tuple(claims)),),
                created=self.as_of, created_time=f"{self.created:%H%M}", reference=q.reference))
        self.write("277", stem, build_277(reports, interchange=self.isa(clearinghouse, us),
                                          group_control_number=self.state.next("gs")))


def _copy_fixtures(box: LocalMailbox, state: _State, fixtures: Path, download_dir: str) -> list[str]:
    """Every X12 file of ``fixtures`` (sorted by name) into the download folder, each once."""
    written = []
    for path in sorted(p for p in fixtures.iterdir() if p.is_file() and not p.name.startswith(".")):
        data = path.read_bytes()
        if path.name in state.fixtures_copied or not data.lstrip().startswith(b"ISA"):
            continue
        box.put(download_dir, path.name, data)
        state.fixtures_copied.append(path.name)
        written.append(path.name)
    return written


def simulate_mailbox(root: Path, *, upload_dir: str = "inbound", download_dir: str = "outbound", seed: int = 1,
                     fixtures: Path | None = None, as_of: date | None = None,
                     payers: Mapping[str, PayerRules] | None = None,
                     only: Iterable[str] | None = None) -> SimResult:
    """Answer every file in ``root/upload_dir`` (or just the names in ``only``) into ``root/download_dir``.

    Each answered file is moved to ``root/upload_dir/archive/``. With ``fixtures`` the answers are
    the X12 files of that folder, each copied once, instead of generated ones.
    """
    root = Path(root)
    box = LocalMailbox(root)
    (root / upload_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / download_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    state = _State(root / STATE_FILE)
    names = [f.name for f in box.list(upload_dir)] if only is None else list(only)
    sim = _Simulator(box, state, download_dir=download_dir, seed=seed, as_of=as_of or date.today(),
                     payers=payers or {})
    answered: list[str] = []
    if fixtures is not None:
        sim.written += _copy_fixtures(box, state, Path(fixtures), download_dir)
    for name in names:
        data = box.get(upload_dir, name)
        if fixtures is None:
            sim.answer(name, data)
        box.archive(upload_dir, name)
        answered.append(name)
        state.save()
    state.save()
    return SimResult(tuple(answered), tuple(sim.written), dict(sorted(sim.counts.items())))


def payer_rules_from_config(config: Any, overrides: Mapping[str, Mapping[str, Any]] | None = None
                            ) -> dict[str, PayerRules]:
    """Payer rules keyed by payer id from a loaded :class:`pipelines.config.Config` (visit limits,
    auth codes); ``overrides`` (by the config's payer ``id``) sets other PayerRules fields."""
    out: dict[str, PayerRules] = {}
    for p in config.payers.values():
        values: dict[str, Any] = {"name": p.name, "visit_limit_per_year": p.visit_limit_per_year,
                                  "auth_required": frozenset(p.auth_required)}
        if p.claim_filing_indicator == "MC":
            values.update(insurance_type="MC", copay=ZERO)
        values.update((overrides or {}).get(p.id, {}))
        out[p.payer_id] = PayerRules(**values)
    return out


def cmd_simulate(app: App, args: argparse.Namespace) -> int:
    """`edi simulate PATH [--seed N] [--fixtures DIR] [--mailbox ROOT]`."""
    from pipelines.errors import ConfigError, UsageError

    path = Path(args.path)
    upload_dir, download_dir = "inbound", "outbound"
    payers: dict[str, PayerRules] = {}
    try:  # a practice's configuration, when there is one, tells the folders and the payers' rules
        config = app.config
    except ConfigError:
        config = None
    if config is not None:
        upload_dir, download_dir = config.transport.upload_dir, config.transport.download_dir
        payers = payer_rules_from_config(config)
    fixtures = Path(args.fixtures) if args.fixtures else None
    if fixtures is not None and not fixtures.is_dir():
        raise UsageError(f"--fixtures {fixtures} is not a folder")
    only: list[str] | None = None
    if path.is_dir():
        root = Path(args.mailbox) if args.mailbox else path
    elif path.is_file():  # default root: the mailbox whose upload folder holds it, else its folder
        root = Path(args.mailbox) if args.mailbox else (
            path.parent.parent if path.parent.name == upload_dir else path.parent)
        upload = root / upload_dir
        if path.resolve().parent != upload.resolve():
            upload.mkdir(parents=True, exist_ok=True, mode=0o700)
            LocalMailbox(root).put(upload_dir, path.name, path.read_bytes())
        only = [path.name]
    else:
        raise UsageError(f"{path} is neither a mailbox folder nor a file")
    result = simulate_mailbox(root, upload_dir=upload_dir, download_dir=download_dir, seed=args.seed,
                              fixtures=fixtures, as_of=app.as_of, payers=payers, only=only)

    def text() -> str:
        if not result.answered and not result.written:
            return f"nothing to answer in {root / upload_dir}"
        lines = [f"answered {len(result.answered)} file(s) from {root / upload_dir}; "
                 f"wrote {len(result.written)} into {root / download_dir}"]
        lines += [f"  {n}" for n in result.written]
        if result.counts:
            lines.append(render_table(["count", "value"], sorted(result.counts.items())))
        return "\n".join(lines)

    app.emit(result.as_dict(), text)
    return 0

