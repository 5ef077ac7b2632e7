"""The denial work queue: categories and suggested actions, `edi denials list`, `edi denials resubmit`.

Posting (:mod:`pipelines.usecases.posting`) opens one Denial per denied adjustment; :func:`categorize` gives
it a category and an action from its CARC (the table :data:`CARC_CATEGORIES`), refined by the RARCs
when the CARC alone says nothing specific (:data:`RARC_HINTS`). Choices where the contract is silent:

* coordination of benefits (22, 23, 109, B11) -> verify_eligibility (find the right payer first);
* benefit limits (119, 149, 35, 278) -> appeal, or bill_patient when the group is PR;
* credentialing (B7, 52, 170, 185) -> correct_and_resubmit (after the enrolment is fixed);
* contractual codes (45, 253) -> other / write_off; any other CARC -> other / appeal (review it).

`edi denials resubmit CLAIM_ID` recodes the claim's encounter as it is stored now (the operator fixed
the encounter or loaded the authorization) and sends a replacement claim: a new claim row
(frequency 7, ``original_claim_id`` = the denied claim, REF*F8 = the payer claim number) in an 837P
of its own, recorded in the ledger and uploaded. The original's open denials become ``resubmitted``.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from edi.x837p import build_837p
from models import Claim, ClaimLine, ClaimStatusEvent, Denial, Encounter, utcnow
from pipelines.cli.app import App
from pipelines.cli.table import render_table
from pipelines.errors import NotFound, UsageError
from pipelines.rules.denials import STATES
from pipelines.usecases.codes import describe_many
from pipelines.usecases.ledger import next_control
from pipelines.usecases.outbound import allocate_controls, upload_pending, write_outbound

if TYPE_CHECKING:  # the coding engine loads ICD-10-CM: imported only when a claim is resubmitted
    from pipelines.rules import coding

__all__ = ["cmd_list", "cmd_resubmit", "denials_json", "resubmit"]

# ------------------------------------------------------------------------------------------------
# list
# ------------------------------------------------------------------------------------------------


def _money(amount: Decimal | None) -> str:
    return f"{(amount or Decimal('0')).quantize(Decimal('0.01')):.2f}"


def denials_json(session: Session, state: str | None = "open") -> list[dict[str, Any]]:
    """The work queue in the shape of CONTRACT section 6 (``state`` None or "all": every state)."""
    stmt = (select(Denial, Claim.claim_id, Claim.payer_id, Claim.date_of_service, ClaimLine.line_control_number)
            .join(Claim, Claim.id == Denial.claim_pk)
            .outerjoin(ClaimLine, ClaimLine.id == Denial.line_pk)
            .order_by(Denial.id))
    if state and state != "all":
        stmt = stmt.where(Denial.state == state)
    rows = session.execute(stmt).all()
    names = describe_many(session, "carc", (r[0].reason for r in rows))
    return [{"id": d.id, "claim_id": claim_id, "payer_id": payer_id, "date_of_service": dos.isoformat(),
             "line_control_number": lcn, "group": d.group, "reason": d.reason, "remarks": list(d.remarks or []),
             "amount": _money(d.amount), "category": d.category, "action": d.action, "state": d.state,
             "description": names.get(d.reason.strip(), "")}
            for d, claim_id, payer_id, dos, lcn in rows]


def cmd_list(app: App, args: argparse.Namespace) -> int:
    """`edi denials list [--state S] [--json]` (default: open items)."""
    state = getattr(args, "state", None) or "open"
    if state not in (*STATES, "all"):
        raise UsageError(f"unknown state {state!r}; expected one of {', '.join(STATES)} or all")
    with app.transaction() as session:
        items = denials_json(session, state)

    def text() -> str:
        if not items:
            return f"no {state} denials" if state != "all" else "no denials"
        return render_table(
            ["CLAIM", "LINE", "CAS", "AMOUNT", "CATEGORY", "ACTION", "STATE", "REMARKS"],
            [[d["claim_id"], d["line_control_number"] or "-", f"{d['group']}-{d['reason']}", d["amount"],
              d["category"], d["action"], d["state"], ",".join(d["remarks"])] for d in items])

    app.emit({"denials": items}, text)
    return 0


# ------------------------------------------------------------------------------------------------
# resubmit
# ------------------------------------------------------------------------------------------------

RESUBMITTABLE = ("denied", "rejected")


def _coding_session(e: Encounter) -> coding.Session:
    from pipelines.rules import coding

    return coding.Session(
        encounter_id=e.encounter_id, patient_id=e.patient_id, payer_id=e.payer_id,
        date_of_service=e.date_of_service, start_time=e.start_time, end_time=e.end_time, service=e.service,
        em_code=e.em_code, therapy_minutes=e.therapy_minutes, interactive_complexity=bool(e.interactive_complexity),
        modality=e.modality, patient_location=e.patient_location, rendering_npi=e.rendering_npi,
        rendering_credential=e.rendering_credential, diagnoses=tuple(e.diagnoses or ()),
        member_id=e.member_id or "", authorization_number=e.authorization_number)


def resubmit(app: App, claim_id: str) -> tuple[Claim, int]:
    """Build, record and mark submitted the replacement of ``claim_id``; returns (new claim, file id).

    Raises NotFound for an unknown claim, UsageError when the claim cannot be replaced (not denied
    or rejected, no payer claim number, already replaced, or the stored encounter still codes to a
    hold).
    """
    from pipelines.rules import coding
    from pipelines.usecases.claims import build_claim_batch, payer_rules

    config = app.config
    with app.transaction() as s:
        original = s.scalar(select(Claim).where(Claim.claim_id == claim_id).with_for_update())
        if original is None:
            raise NotFound(f"no claim {claim_id}")
        if original.status not in RESUBMITTABLE:
            raise UsageError(f"claim {claim_id} is {original.status}; only a denied or rejected claim is "
                             "resubmitted as a replacement")
        if not original.payer_claim_number:
            raise UsageError(f"claim {claim_id} has no payer claim number, which a replacement claim needs "
                             "(REF*F8); the payer never adjudicated it, so submit it again as a new claim")
        done = s.scalar(select(Claim.claim_id).where(Claim.original_claim_id == claim_id,
                                                     Claim.status.notin_(("held", "ready", "rejected"))))
        if done is not None:
            raise UsageError(f"claim {claim_id} was already resubmitted as {done}")
        enc = s.get(Encounter, original.encounter_id)
        rules = payer_rules(config)
        if enc is None or enc.payer_id not in rules:
            raise UsageError(f"claim {claim_id}: its encounter or payer is no longer on file")
        try:
            coded = coding.code_session(_coding_session(enc), rules[enc.payer_id], config.fees)
        except ValueError as exc:
            raise UsageError(f"claim {claim_id}: encounter {enc.encounter_id} cannot be coded: {exc}") from exc
        if coded.holds or not coded.lines:
            raise UsageError(f"claim {claim_id}: encounter {enc.encounter_id} still codes to a hold "
                             f"({', '.join(coded.holds) or 'no lines'}); fix the encounter first")
        submitter = config.clearinghouse.submitter_id
        new_id = f"C{next_control(s, submitter, 'claim'):06d}"
        first_line = next_control(s, submitter, "line", len(coded.lines))
        now = utcnow()
        claim = Claim(
            claim_id=new_id, encounter_id=enc.encounter_id, patient_id=enc.patient_id, payer_id=enc.payer_id,
            status="submitted", hold_reasons=[], warnings=list(coded.warnings), frequency_code="7",
            place_of_service=coded.place_of_service, date_of_service=enc.date_of_service,
            diagnoses=list(coded.diagnoses), authorization_number=enc.authorization_number,
            billed=sum((ln.charge for ln in coded.lines), Decimal("0.00")),
            payer_claim_number=original.payer_claim_number, original_claim_id=original.claim_id,
            created_at=now, updated_at=now, submitted_at=now,
            lines=[ClaimLine(line_number=n, line_control_number=f"L{first_line + n - 1:06d}", procedure=ln.procedure,
                             modifiers=list(ln.modifiers), units=ln.units, charge=ln.charge,
                             diagnosis_pointers=list(ln.diagnosis_pointers), paid=Decimal("0.00"))
                   for n, ln in enumerate(coded.lines, 1)])
        s.add(claim)
        s.flush()
        controls = allocate_controls(s, submitter)
        st = controls.st_control()
        batch = build_claim_batch(config, [claim], {enc.encounter_id: enc}, batch_reference=f"{controls.isa:09d}",
                                  payer_claim_numbers={new_id: original.payer_claim_number})
        text = build_837p(batch, isa_control=controls.isa, gs_control=controls.gs, st_control=st, created=now,
                          usage=config.clearinghouse.usage)
        f = write_outbound(app, s, kind="837P", text=text, controls=controls, st_controls=[("837", st)])
        claim.file_id, claim.st_control = f.id, st
        original.status_reason = f"replaced by {new_id}"
        s.execute(update(Denial).where(Denial.claim_pk == original.id, Denial.state == "open")
                  .values(state="resubmitted", note=f"replacement claim {new_id}", updated_at=now)
                  .execution_options(synchronize_session=False))
        s.add(ClaimStatusEvent(claim_pk=original.id, file_id=f.id, source="edi", code="7",
                               description=f"replacement claim {new_id} sent"))
        file_id = f.id
    app.log.info("claim_resubmitted", claim_id=claim_id, replacement_claim_id=new_id, file_id=file_id)
    return claim, file_id


def cmd_resubmit(app: App, args: argparse.Namespace) -> int:
    """`edi denials resubmit CLAIM_ID`: write the replacement claim and upload it."""
    from transports.errors import TransportError

    claim, file_id = resubmit(app, args.claim_id)
    upload_error = None
    try:
        upload_pending(app)
    except (TransportError, OSError) as exc:
        upload_error = str(exc)
        app.log.error("upload_failed", file_id=file_id, error=type(exc).__name__)
    data = {"claim_id": args.claim_id, "replacement_claim_id": claim.claim_id, "frequency_code": "7",
            "payer_claim_number": claim.payer_claim_number, "file_id": file_id, "upload_error": upload_error}
    app.emit(data, f"claim {args.claim_id} resubmitted as {claim.claim_id} (frequency 7, REF*F8 "
                   f"{claim.payer_claim_number}) in file {file_id}"
                   + (f"; upload failed ({upload_error}), the next run uploads it" if upload_error else ""))
    if upload_error and not app.json:
        print(f"edi: upload failed: {upload_error}", file=sys.stderr)
    return 1 if upload_error else 0
