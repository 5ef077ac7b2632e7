"""The denial work queue: `edi denials list` (:func:`list_denials`) and `edi denials resubmit` (:func:`resubmit`).

Posting (:mod:`pipelines.usecases.posting`) opens one Denial per denied adjustment;
:func:`pipelines.rules.denials.categorize` gives it a category and an action from its CARC,
refined by the RARCs when the CARC alone says nothing specific. Choices where the contract is silent:

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

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from edi.x837p import build_837p
from models import Claim, ClaimLine, ClaimStatusEvent, Denial, Encounter, File, utcnow
from pipelines.config import Config
from pipelines.errors import NotFound, UsageError
from pipelines.logs import get_logger
from pipelines.rules import coding
from pipelines.rules.denials import STATES
from pipelines.rules.lifecycle import UNSENT, ClaimStatus, Event, transition
from pipelines.rules.money import ZERO, money
from pipelines.usecases.audit import record_audit
from pipelines.usecases.claims import payer_rules
from pipelines.usecases.codes import describe_many
from pipelines.usecases.ledger import next_control
from pipelines.usecases.legs import prior_adjudications
from pipelines.usecases.outbound import allocate_controls, outbound_lock, upload_pending, write_outbound
from pipelines.usecases.submit import build_claim_batch
from pipelines.usecases.uow import UnitOfWork
from transports import Mailbox
from transports.errors import TransportError

__all__ = ["RESUBMITTABLE", "Resubmission", "denials_json", "list_denials", "resubmit"]

log = get_logger("edi")

# ------------------------------------------------------------------------------------------------
# list
# ------------------------------------------------------------------------------------------------


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
             "amount": money(d.amount), "category": d.category, "action": d.action, "state": d.state,
             "description": names.get(d.reason.strip(), "")}
            for d, claim_id, payer_id, dos, lcn in rows]


def list_denials(uow: UnitOfWork, state: str = "open") -> list[dict[str, Any]]:
    """`edi denials list`: the items in ``state`` (one of :data:`STATES`, or "all"); UsageError otherwise."""
    if state not in (*STATES, "all"):
        raise UsageError(f"unknown state {state!r}; expected one of {', '.join(STATES)} or all")
    with uow.transaction() as session:
        return denials_json(session, state)


# ------------------------------------------------------------------------------------------------
# resubmit
# ------------------------------------------------------------------------------------------------

S = ClaimStatus
RESUBMITTABLE = frozenset({S.DENIED, S.REJECTED})
"""A claim the payer adjudicated and denied, or rejected after giving it a number, may be replaced."""
# A replacement that counts as done: anything but one still unsent or itself rejected.
_NOT_DONE = sorted({*UNSENT, S.REJECTED})


@dataclass(frozen=True)
class Resubmission:
    """What `edi denials resubmit` did: the replacement claim, its file, and whether the upload failed."""

    claim_id: str
    replacement_claim_id: str
    payer_claim_number: str
    file_id: int
    upload_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"claim_id": self.claim_id, "replacement_claim_id": self.replacement_claim_id,
                "frequency_code": "7", "payer_claim_number": self.payer_claim_number, "file_id": self.file_id,
                "upload_error": self.upload_error}


def _original(s: Session, claim_id: str) -> Claim:
    """The claim to replace, locked; NotFound or UsageError when it cannot be replaced."""
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
                                                 Claim.status.notin_(_NOT_DONE)))
    if done is not None:
        raise UsageError(f"claim {claim_id} was already resubmitted as {done}")
    return original


def _recode(config: Config, enc: Encounter | None, claim_id: str) -> coding.CodedClaim:
    """The encounter coded as it is stored now; UsageError when it cannot be, or codes to a hold."""
    rules = payer_rules(config)
    if enc is None or enc.payer_id not in rules:
        raise UsageError(f"claim {claim_id}: its encounter or payer is no longer on file")
    try:
        coded = coding.code_session(coding.session_of(enc), rules[enc.payer_id], config.fees)
    except ValueError as exc:
        raise UsageError(f"claim {claim_id}: encounter {enc.encounter_id} cannot be coded: {exc}") from exc
    if coded.holds or not coded.lines:
        raise UsageError(f"claim {claim_id}: encounter {enc.encounter_id} still codes to a hold "
                         f"({', '.join(coded.holds) or 'no lines'}); fix the encounter first")
    return coded


def _replacement(s: Session, config: Config, original: Claim, enc: Encounter, coded: coding.CodedClaim,
                 now: datetime) -> Claim:
    """The frequency 7 claim row (new CLM01 and line control numbers), submitted."""
    submitter = config.clearinghouse.submitter_id
    new_id = f"C{next_control(s, submitter, 'claim'):06d}"
    first_line = next_control(s, submitter, "line", len(coded.lines))
    return Claim(  # a secondary/tertiary leg is replaced as the same leg (its payer, sequence and prior leg)
        claim_id=new_id, encounter_id=enc.encounter_id, patient_id=enc.patient_id,
        payer_id=enc.payer_id if original.payer_sequence == "P" else original.payer_id,
        payer_sequence=original.payer_sequence, prior_claim_id=original.prior_claim_id,
        prior_payment_date=original.prior_payment_date,
        status=transition(None, Event.REPLACEMENT_SENT, claim_id=new_id).value, hold_reasons=[],
        warnings=list(coded.warnings), frequency_code="7",
        place_of_service=coded.place_of_service, date_of_service=enc.date_of_service,
        diagnoses=list(coded.diagnoses),
        authorization_number=enc.authorization_number if original.payer_sequence == "P" else None,
        billed=sum((ln.charge for ln in coded.lines), ZERO),
        payer_claim_number=original.payer_claim_number, original_claim_id=original.claim_id,
        created_at=now, updated_at=now, submitted_at=now,
        lines=[ClaimLine(line_number=n, line_control_number=f"L{first_line + n - 1:06d}", procedure=ln.procedure,
                         modifiers=list(ln.modifiers), units=ln.units, charge=ln.charge,
                         diagnosis_pointers=list(ln.diagnosis_pointers), paid=ZERO)
               for n, ln in enumerate(coded.lines, 1)])


def _write_file(s: Session, config: Config, claim: Claim, enc: Encounter, payer_claim_number: str,
                now: datetime) -> File:
    """The replacement's own 837P, recorded in the ledger (``built``); the claim gets its file and ST02."""
    controls = allocate_controls(s, config.clearinghouse.submitter_id)
    batch = build_claim_batch(config, [claim], {enc.encounter_id: enc}, batch_reference=f"{controls.isa:09d}",
                              payer_claim_numbers={claim.claim_id: payer_claim_number},
                              priors=prior_adjudications(s, [claim]))
    text = build_837p(batch, envelope=controls.envelope(created=now, usage=config.clearinghouse.usage))
    st = controls.st_control()
    f = write_outbound(config, s, kind="837P", text=text, controls=controls, st_controls=[("837", st)])
    claim.file_id, claim.st_control = f.id, st
    return f


def resubmit(config: Config, uow: UnitOfWork, mailbox: Mailbox, claim_id: str) -> Resubmission:
    """Build, record and mark submitted the replacement of ``claim_id`` (one transaction), then upload.

    Raises NotFound for an unknown claim, UsageError when the claim cannot be replaced (not denied
    or rejected, no payer claim number, already replaced, or the stored encounter still codes to a
    hold). A failed upload is reported in ``upload_error``: the file stays ``built`` for the next run.
    """
    with uow.transaction() as s:
        outbound_lock(s, "837P")  # a second resubmission at once then finds this one's replacement
        original = _original(s, claim_id)
        enc = s.get(Encounter, original.encounter_id)
        coded = _recode(config, enc, claim_id)
        assert enc is not None
        now = utcnow()
        claim = _replacement(s, config, original, enc, coded, now)
        s.add(claim)
        s.flush()
        f = _write_file(s, config, claim, enc, original.payer_claim_number or "", now)
        original.status_reason = f"replaced by {claim.claim_id}"
        s.execute(update(Denial).where(Denial.claim_pk == original.id, Denial.state == "open")
                  .values(state="resubmitted", note=f"replacement claim {claim.claim_id}", updated_at=now)
                  .execution_options(synchronize_session=False))
        s.add(ClaimStatusEvent(claim_pk=original.id, file_id=f.id, source="edi", code="7",
                               description=f"replacement claim {claim.claim_id} sent"))
        done = Resubmission(claim_id, claim.claim_id, claim.payer_claim_number or "", f.id)
        record_audit(s, "resubmit", f"claim {claim_id}", {"replacement_claim_id": claim.claim_id,
                                                          "file_id": f.id, "billed": money(claim.billed),
                                                          "frequency_code": "7"})
    log.info("claim_resubmitted", claim_id=claim_id, replacement_claim_id=done.replacement_claim_id,
             file_id=done.file_id)
    try:
        upload_pending(config, uow, mailbox)
    except (TransportError, OSError) as exc:
        log.error("upload_failed", file_id=done.file_id, error=type(exc).__name__)
        return replace(done, upload_error=str(exc))
    return done
