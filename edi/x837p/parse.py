"""837P parser (005010X222A1): :func:`parse_837p` and its ``edi inspect`` JSON, :func:`inspect_837p`.

The reader walks the segments once, keeping which loop it is in (2000A, 2000B, 2000C, 2300, 2320,
2400, 2430) and freezing each claim into a :class:`edi.x837p.parsed.SubmittedClaim` when the next
claim, HL or SE starts. A set that breaks the guide where the reader needs it (no BHT, no
submitter, a claim without a payer, a diagnosis or a line, an SV1 without a procedure, an amount
that is not a number) raises :class:`edi.errors.TransactionError` with the segment number, segment
id and element; values are never quoted in the message (they may be PHI).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from edi._read import (
    Entity,
    Person,
    amount,
    demographics,
    entity,
    error,
    opt_number,
    period,
    person,
)
from edi.x12 import Segment, TransactionSet, element, is_digits, optional, parse_d8
from edi.x837p.model import CasAdjustment
from edi.x837p.parsed import (
    ClaimSubmission,
    SubmittedAdjudication,
    SubmittedClaim,
    SubmittedLine,
    SubmittedOtherPayer,
)

__all__ = ["inspect_837p", "parse_837p"]

_ONE = Decimal(1)


def _adjustments(seg: Segment, n: int) -> list[CasAdjustment]:
    """The triples of a CAS."""
    out = []
    for i in range(2, min(len(seg), 20), 3):
        if element(seg, i):
            out.append(CasAdjustment(element(seg, 1), element(seg, i), amount(seg, i + 1, n),
                                     opt_number(seg, i + 2, n)))
    return out


class _Reader:
    """One pass over an 837 set; ``claim``, ``other``, ``line`` and ``adjudication`` are the open loops."""

    def __init__(self, ts: TransactionSet) -> None:
        self.comp = ts.delimiters.component
        self.st_number = ts.segment_number
        self.n = ts.segment_number - 1
        self.head: dict[str, Any] = {}
        self.submitter: Entity | None = None
        self.receiver: Entity | None = None
        self.level = ""
        self.billing: dict[str, Any] = {}
        self.sub: dict[str, Any] = {}
        self.claim: dict[str, Any] | None = None
        self.other: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None
        self.adjudication: dict[str, Any] | None = None
        self.claims: list[SubmittedClaim] = []
        self.handlers: dict[str, Callable[[Segment], None]] = {
            "BHT": self.bht, "NM1": self.nm1, "HL": self.hl, "SBR": self.sbr, "PAT": self.pat, "DMG": self.dmg,
            "REF": self.ref, "CLM": self.clm, "HI": self.hi, "CAS": self.cas, "AMT": self.amt, "DTP": self.dtp,
            "LX": self.lx, "SV1": self.sv1, "SVD": self.svd,
        }

    def read(self, segments: Any) -> ClaimSubmission:
        handlers = self.handlers
        for seg in segments:
            self.n += 1
            handler = handlers.get(seg[0])
            if handler is not None:
                handler(seg)
        self.close_claim()
        return self.submission()

    def err(self, message: str, seg: Segment | None, element_position: int = 0, expected: str | None = None,
            n: int | None = None) -> Exception:
        return error(f"837 {message}", self.n if n is None else n, seg, element_position, expected)

    # -- header, hierarchy, parties --------------------------------------------------------------
    def bht(self, seg: Segment) -> None:
        self.head = {"purpose": element(seg, 2), "reference": element(seg, 3),
                     "created": parse_d8(element(seg, 4), self.n, "BHT", 4), "created_time": element(seg, 5),
                     "claim_type": element(seg, 6)}

    def hl(self, seg: Segment) -> None:
        self.close_claim()
        self.level = element(seg, 3)
        if self.level == "20":
            self.billing = {}
        elif self.level == "22":
            self.sub = {}
        elif self.level == "23":
            self.sub.pop("patient", None)
            self.sub.pop("patient_relationship", None)

    def nm1(self, seg: Segment) -> None:
        code = element(seg, 1)
        if self.adjudication is not None or self.line is not None:
            return  # 2420 providers are not kept
        if self.other is not None:
            if code == "IL":
                self.other["subscriber"] = person(seg)
            elif code == "PR":
                self.other["payer"] = entity(seg)
        elif self.claim is not None:
            if code == "82":
                self.claim["rendering"] = entity(seg)
        elif not self.level:
            if code == "41":
                self.submitter = entity(seg)
            elif code == "40":
                self.receiver = entity(seg)
        elif self.level == "20" and code == "85":
            self.billing["provider"] = entity(seg)
        elif self.level == "22" and code == "IL":
            self.sub["subscriber"] = person(seg)
            self.sub["dmg_to"] = "subscriber"
        elif self.level == "22" and code == "PR":
            self.sub["payer"] = entity(seg)
            self.sub["dmg_to"] = None
        elif self.level == "23" and code == "QC":
            self.sub["patient"] = person(seg)
            self.sub["dmg_to"] = "patient"

    def sbr(self, seg: Segment) -> None:
        values = {"sequence": element(seg, 1), "relationship": optional(seg, 2),
                  "filing_indicator": optional(seg, 9), "group_number": optional(seg, 3)}
        if self.claim is None:
            self.sub.update(values)
            return
        self.close_other()
        self.other = {**values, "adjustments": []}

    def pat(self, seg: Segment) -> None:
        self.sub["patient_relationship"] = optional(seg, 1)

    def dmg(self, seg: Segment) -> None:
        key = self.sub.get("dmg_to")
        target = self.sub.get(key) if isinstance(key, str) and self.claim is None else None
        if isinstance(key, str) and isinstance(target, Person):
            dob, sex = demographics(seg, self.n)
            self.sub[key] = Person(target.last_name, target.first_name, target.member_id, dob, sex)

    def ref(self, seg: Segment) -> None:
        q, v = element(seg, 1), element(seg, 2)
        if self.adjudication is not None or self.other is not None:
            return
        if self.line is not None:
            key = {"6R": "line_control_number", "G1": "prior_auth"}.get(q)
            if key and key not in self.line:
                self.line[key] = v
        elif self.claim is not None:
            key = {"G1": "prior_auth", "F8": "payer_claim_number"}.get(q)
            if key:
                self.claim[key] = v
        elif self.level == "20" and q == "EI":
            self.billing.setdefault("tax_id", v)

    # -- claim -----------------------------------------------------------------------------------
    def clm(self, seg: Segment) -> None:
        self.close_claim()
        if self.level not in ("22", "23") or "subscriber" not in self.sub:
            raise self.err("claim (CLM) outside a subscriber or patient loop", seg, 0, "HL 22 or 23 and NM1*IL first")
        if "provider" not in self.billing:
            raise self.err("claim (CLM) without a billing provider (2010AA NM1*85)", seg, 0, "NM1*85")
        if not element(seg, 1):
            raise self.err("CLM01 is empty", seg, 1, "the patient control number")
        facility = element(seg, 5).split(self.comp)
        self.claim = {"n": self.n, "seg": seg, "claim_id": element(seg, 1), "charge": amount(seg, 2, self.n),
                      "place_of_service": facility[0],
                      "frequency_code": facility[2] if len(facility) > 2 and facility[2] else "1",
                      "diagnoses": None, "lines": [], "other_payers": []}

    def hi(self, seg: Segment) -> None:
        if self.claim is None or self.line is not None:
            return
        codes = [element(seg, i).split(self.comp) for i in range(1, len(seg))]
        self.claim["diagnoses"] = (self.claim["diagnoses"] or ()) + tuple(c[1] for c in codes if len(c) > 1 and c[1])

    def cas(self, seg: Segment) -> None:
        if self.adjudication is not None:  # 2430
            self.adjudication["adjustments"] += _adjustments(seg, self.n)
        elif self.other is not None:  # 2320 (a line closes the other payers)
            self.other["adjustments"] += _adjustments(seg, self.n)

    def amt(self, seg: Segment) -> None:
        if self.other is not None and self.line is None and element(seg, 1) == "D":
            self.other["paid"] = amount(seg, 2, self.n)

    def dtp(self, seg: Segment) -> None:
        q = element(seg, 1)
        if self.adjudication is not None:
            if q == "573":
                self.adjudication["date"] = period(seg, self.n)[0]
        elif self.line is not None:
            if q == "472":
                self.line["service_date"], self.line["service_date_end"] = period(seg, self.n)
        elif self.other is not None and q == "573":
            self.other["adjudication_date"] = period(seg, self.n)[0]

    # -- lines -----------------------------------------------------------------------------------
    def lx(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.err("service line (LX) outside a claim", seg, 0, "CLM first")
        self.close_line()
        self.close_other()
        number = element(seg, 1)
        if not is_digits(number):
            raise self.err("LX01 is not a line number", seg, 1, "1, 2, ...")
        self.line = {"n": self.n, "seg": seg, "number": int(number)}

    def sv1(self, seg: Segment) -> None:
        if self.line is None:
            raise self.err("SV1 outside a service line (no LX before it)", seg, 0, "LX first")
        proc = element(seg, 1).split(self.comp)
        if len(proc) < 2 or not proc[1]:
            raise self.err("SV101 has no procedure code", seg, 1, "HC:code[:modifiers]")
        pointers = [p for p in element(seg, 7).split(self.comp) if p]
        if not all(is_digits(p) for p in pointers):
            raise self.err("SV107 diagnosis pointers are not numbers", seg, 7, "1 to 12")
        units = opt_number(seg, 4, self.n)
        self.line.update(procedure_qualifier=proc[0], procedure=proc[1], modifiers=tuple(m for m in proc[2:6] if m),
                         charge=amount(seg, 2, self.n), unit_basis=element(seg, 3) or "UN",
                         units=_ONE if units is None else units, place_of_service=optional(seg, 5),
                         diagnosis_pointers=tuple(int(p) for p in pointers))

    def svd(self, seg: Segment) -> None:
        if self.line is None:
            raise self.err("SVD outside a service line", seg, 0, "LX and SV1 first")
        self.close_adjudication()
        proc = element(seg, 3).split(self.comp)
        if len(proc) < 2 or not proc[1]:
            raise self.err("SVD03 has no procedure code", seg, 3, "HC:code[:modifiers]")
        self.adjudication = {"payer_id": element(seg, 1), "paid": amount(seg, 2, self.n),
                             "procedure_qualifier": proc[0], "procedure": proc[1],
                             "modifiers": tuple(m for m in proc[2:6] if m), "units": opt_number(seg, 5, self.n),
                             "adjustments": []}

    # -- closing loops ---------------------------------------------------------------------------
    def close_adjudication(self) -> None:
        a, self.adjudication = self.adjudication, None
        if a is not None and self.line is not None:
            a["adjustments"] = tuple(a["adjustments"])
            self.line.setdefault("adjudications", []).append(SubmittedAdjudication(**a))

    def close_line(self) -> None:
        self.close_adjudication()
        line, self.line = self.line, None
        if line is None or self.claim is None:
            return
        if "procedure" not in line:
            raise self.err("service line has no SV1", line["seg"], 0, "SV1 after LX", n=line["n"])
        del line["n"], line["seg"]
        line["adjudications"] = tuple(line.get("adjudications", ()))
        self.claim["lines"].append(SubmittedLine(**line))

    def close_other(self) -> None:
        other, self.other = self.other, None
        if other is not None and self.claim is not None:
            other["adjustments"] = tuple(other["adjustments"])
            self.claim["other_payers"].append(SubmittedOtherPayer(**other))

    def close_claim(self) -> None:
        self.close_line()
        self.close_other()
        claim, self.claim = self.claim, None
        if claim is None:
            return
        n, seg = claim.pop("n"), claim.pop("seg")
        if not claim["diagnoses"]:
            raise self.err(f"claim {claim['claim_id']} has no diagnosis", seg, 0, "HI in loop 2300", n=n)
        if not claim["lines"]:
            raise self.err(f"claim {claim['claim_id']} has no service line", seg, 0, "LX and SV1 in loop 2400", n=n)
        payer = self.sub.get("payer")
        if not isinstance(payer, Entity) or not payer.id:
            raise self.err(f"claim {claim['claim_id']} has no payer id", seg, 0, "NM1*PR in loop 2010BB", n=n)
        claim["lines"], claim["other_payers"] = tuple(claim["lines"]), tuple(claim["other_payers"])
        self.claims.append(SubmittedClaim(
            **claim, payer=payer, subscriber=self.sub["subscriber"], billing_provider=self.billing["provider"],
            billing_tax_id=self.billing.get("tax_id"), payer_sequence=self.sub.get("sequence") or "P",
            filing_indicator=self.sub.get("filing_indicator"), relationship=self.sub.get("relationship"),
            group_number=self.sub.get("group_number"), patient=self.sub.get("patient"),
            patient_relationship=self.sub.get("patient_relationship")))

    def submission(self) -> ClaimSubmission:
        st: Segment = ["ST"]
        if not self.head:
            raise self.err("set has no BHT", st, 0, "BHT", n=self.st_number)
        if self.submitter is None or not self.submitter.id:
            raise self.err("set has no submitter id", st, 0, "NM1*41 in loop 1000A", n=self.st_number)
        if not self.claims:
            raise self.err("set has no claim", st, 0, "CLM in loop 2300", n=self.st_number)
        created: date = self.head["created"]
        return ClaimSubmission(reference=self.head["reference"], created=created,
                               created_time=self.head["created_time"], submitter=self.submitter,
                               receiver=self.receiver, claims=tuple(self.claims), purpose=self.head["purpose"],
                               claim_type=self.head["claim_type"])


def parse_837p(ts: TransactionSet) -> ClaimSubmission:
    """Parse one 837 (005010X222A1) transaction set; TransactionError with the position when it is broken."""
    return _Reader(ts).read(ts.segments)


# --------------------------------------------------------------------------------------------
# Inspect JSON
# --------------------------------------------------------------------------------------------


def _s(d: Decimal | None) -> str | None:
    return None if d is None else f"{d:.2f}"


def _units(d: Decimal | None) -> int | str | None:
    if d is None:
        return None
    return int(d) if d == d.to_integral_value() else f"{d.normalize():f}"


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _dotted(code: str) -> str:
    """An ICD-10-CM code with its dot (F331 -> F33.1)."""
    return code if len(code) <= 3 or "." in code else f"{code[:3]}.{code[3:]}"


def _party(e: Entity | None) -> dict[str, str | None] | None:
    return None if e is None else {"name": e.name, "id": e.id}


def _adjustments_json(adjs: tuple[CasAdjustment, ...]) -> list[dict[str, str | None]]:
    return [{"group": a.group, "reason": a.reason, "amount": _s(a.amount)} for a in adjs]


def _line_json(ln: SubmittedLine) -> dict[str, Any]:
    return {
        "number": ln.number, "procedure": ln.procedure, "modifiers": list(ln.modifiers), "units": _units(ln.units),
        "charge": _s(ln.charge), "diagnosis_pointers": list(ln.diagnosis_pointers),
        "date_of_service": _iso(ln.service_date), "line_control_number": ln.line_control_number,
        "prior_auth": ln.prior_auth,
        "adjudications": [{"payer_id": a.payer_id, "paid": _s(a.paid), "procedure": a.procedure,
                           "modifiers": list(a.modifiers), "units": _units(a.units),
                           "adjustments": _adjustments_json(a.adjustments), "date": _iso(a.date)}
                          for a in ln.adjudications],
    }


def _claim_json(c: SubmittedClaim) -> dict[str, Any]:
    return {
        "claim_id": c.claim_id, "charge": _s(c.charge), "place_of_service": c.place_of_service,
        "frequency_code": c.frequency_code, "payer_sequence": c.payer_sequence, "payer": _party(c.payer),
        "billing_provider": {"name": c.billing_provider.name, "npi": c.billing_provider.id},
        "prior_auth": c.prior_auth, "payer_claim_number": c.payer_claim_number,
        "diagnoses": [_dotted(d) for d in c.diagnoses],
        "other_payers": [{"sequence": o.sequence, "payer": _party(o.payer), "filing_indicator": o.filing_indicator,
                          "paid": _s(o.paid), "adjustments": _adjustments_json(o.adjustments),
                          "date": _iso(o.adjudication_date)}
                         for o in c.other_payers],
        "lines": [_line_json(ln) for ln in c.lines],
    }


def inspect_837p(ts: TransactionSet) -> dict[str, Any]:
    """The ``edi inspect --json`` form of an 837P (CONTRACT.md section 6); no names, member ids or birth dates."""
    s = parse_837p(ts)
    return {"set": "837", "control_number": ts.control_number, "implementation": ts.implementation,
            "reference": s.reference, "created": _iso(s.created), "submitter": _party(s.submitter),
            "receiver": _party(s.receiver), "claims": [_claim_json(c) for c in s.claims]}
