"""TA1 and 999 acknowledgments applied to the file ledger and the claims.

Tied to the outbound file by ISA13 (TA101) or by GS06 (AK102) and our sender id, each AK2 to a
FileTransaction by ST02. The transaction sets and the file get the acknowledgment's state and every
error in words (``FileTransaction.ack_errors``); claims of a rejected 837P set (or of a rejected
group or interchange) take the lifecycle's ``ACK_REJECTED`` with the reason, when they still await
an answer (submitted, accepted). A 999 alone does not accept a claim: that needs the 277CA
(:mod:`pipelines.usecases.status_responses`).

:func:`apply_999` and :func:`apply_ta1` are the appliers of kinds ``999`` and ``TA1``
(:mod:`pipelines.usecases.applier`); either applies every 999 and TA1 the file holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from edi.x12 import Interchange, open_x12
from edi.x999 import (
    GROUP_ERROR_CODES,
    TA1_NOTE_CODES,
    TRANSACTION_ERROR_CODES,
    GroupAck,
    SegmentError,
    Ta1,
    TransactionAck,
    describe,
    parse_999,
    parse_ta1,
)
from models import Claim, ClaimStatusEvent, File
from pipelines.errors import ApplyError
from pipelines.logs import get_logger
from pipelines.rules.lifecycle import AWAITING_ANSWER, Event, transition
from pipelines.rules.remittance import claim_key, clip_reason, control_key
from pipelines.usecases.applier import ApplyContext

__all__ = ["apply_999", "apply_ta1"]

log = get_logger("edi")
_FILE_STATE = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted"}
_SET_STATE = {"A": "accepted", "E": "accepted_with_errors"}
_FUNCTIONAL_KIND = {"HC": "837P", "HS": "270", "HR": "276"}


def _segment_error_entries(e: SegmentError) -> list[dict[str, Any]]:
    """One entry per IK4 element error of an IK3 (or one for the IK3 alone), with a sentence."""
    claim_id = e.business_unit[1] if e.business_unit and e.business_unit[0].upper() == "CLM01" else None
    where = f"Segment {e.segment_id} at position {e.position}"
    if e.loop_id:
        where += f" in loop {e.loop_id}"
    if claim_id:
        where += f" (claim {claim_id})"
    base: dict[str, Any] = {"level": "segment", "segment_id": e.segment_id, "position": e.position,
                            "loop": e.loop_id, "claim_id": claim_id}
    if not e.elements:
        return [{**base, "element": None, "code": e.code, "description": e.description,
                 "text": f"{where}: {e.description or 'error'} (IK304 code {e.code})."}]
    out = []
    for x in e.elements:
        name = f"{e.segment_id}{x.position:02d}"
        if x.component is not None:
            name += f"-{x.component}"
        detail = f" (data element {x.data_element})" if x.data_element else ""
        out.append({**base, "level": "element", "element": x.position, "component": x.component,
                    "repetition": x.repetition, "data_element": x.data_element, "code": x.code,
                    "description": x.description, "segment_code": e.code,
                    "segment_description": e.description, "bad_value": x.bad_value,
                    "text": f"{where}: element {name}{detail}: {x.description} (IK403 code {x.code})."})
    return out


def _transaction_errors(t: TransactionAck) -> list[dict[str, Any]]:
    entries = [entry for e in t.segment_errors for entry in _segment_error_entries(e)]
    for code in t.error_codes:
        text = describe(TRANSACTION_ERROR_CODES, code)
        entries.append({"level": "transaction", "segment_id": "ST", "position": None, "loop": None,
                        "element": None, "code": code, "description": text,
                        "text": f"Transaction set {t.set_id} {t.control_number}: {text} (IK5 code {code})."})
    return entries


def _group_errors(ack: GroupAck) -> list[dict[str, Any]]:
    out = []
    for code in ack.error_codes:
        text = describe(GROUP_ERROR_CODES, code)
        out.append({"level": "group", "segment_id": "GS", "position": None, "loop": None, "element": None,
                    "code": code, "description": text,
                    "text": f"Functional group {ack.group_control_number}: {text} (AK9 code {code})."})
    return out


def _outbound_by_group(session: Session, isa: Interchange, ack: GroupAck) -> File:
    stmt = select(File).where(File.direction == "out", File.sender_id == isa.receiver_id)
    candidates = [f for f in session.scalars(stmt.order_by(File.id))
                  if control_key(f.gs_control) == control_key(ack.group_control_number)]
    kind = _FUNCTIONAL_KIND.get(ack.functional_id)
    if kind is not None and any(f.kind == kind for f in candidates):
        candidates = [f for f in candidates if f.kind == kind]
    if len(candidates) > 1:
        candidates = [f for f in candidates if f.receiver_id == isa.sender_id] or candidates
    if not candidates:
        raise ApplyError(
            f"999 acknowledges functional group GS06 {ack.group_control_number} ({ack.functional_id}) "
            f"from sender {isa.receiver_id}, but no outbound file with that group control number was sent",
            {"segment_id": "AK1", "element": 2, "interchange": isa.control_number})
    return candidates[-1]


def _outbound_by_isa(session: Session, isa: Interchange, control: str) -> File:
    stmt = select(File).where(File.direction == "out", File.sender_id == isa.receiver_id)
    candidates = [f for f in session.scalars(stmt.order_by(File.id)) if control_key(f.isa_control) == control_key(control)]
    if len(candidates) > 1:
        candidates = [f for f in candidates if f.receiver_id == isa.sender_id] or candidates
    if not candidates:
        raise ApplyError(
            f"TA1 acknowledges interchange ISA13 {control} from sender {isa.receiver_id}, "
            "but no outbound file with that interchange control number was sent",
            {"segment_id": "TA1", "element": 1, "interchange": isa.control_number})
    return candidates[-1]


def _reject_claims(session: Session, f: File, st_control: str | None, errors: Sequence[dict[str, Any]],
                   source: str, file_id: int, label: str) -> int:
    """Claims of ``f`` (of one ST, or all when ``st_control`` is None) move to rejected with the errors."""
    stmt = select(Claim).where(Claim.file_id == f.id).order_by(Claim.id)
    n = 0
    for claim in session.scalars(stmt):
        if st_control is not None and control_key(claim.st_control) != control_key(st_control):
            continue
        own = [e for e in errors if e.get("claim_id") and claim_key(str(e["claim_id"])) == claim.claim_id]
        texts = [str(e["text"]) for e in (own or [e for e in errors if not e.get("claim_id")] or errors)]
        reason = clip_reason(f"{label}: " + (" ".join(texts) if texts else "rejected, no error detail given."))
        session.add(ClaimStatusEvent(claim_pk=claim.id, file_id=file_id, source=source, category="R",
                                     code=(own[0]["code"] if own else None), description=reason))
        if claim.status in AWAITING_ANSWER:  # a claim rejected before keeps its first reason
            claim.status = transition(claim.status, Event.ACK_REJECTED, claim_id=claim.claim_id).value
            claim.status_reason = reason
            n += 1
    return n


def _apply_group_ack(ctx: ApplyContext, isa: Interchange, ack: GroupAck, counts: dict[str, int]) -> None:
    session = ctx.session
    f = _outbound_by_group(session, isa, ack)
    by_st = {control_key(t.st_control): t for t in f.transactions}
    group_errors = _group_errors(ack)
    for t in ack.transactions:
        ft = by_st.get(control_key(t.control_number))
        if ft is None:
            raise ApplyError(
                f"999 acknowledges transaction set ST02 {t.control_number} of group GS06 "
                f"{ack.group_control_number}, but outbound file {f.id} has no such set",
                {"segment_id": "AK2", "element": 2})
        errors = _transaction_errors(t)
        ft.state = _SET_STATE.get(t.code, "rejected")
        ft.ack_errors = errors
        counts["sets_accepted" if t.accepted else "sets_rejected"] += 1
        if not t.accepted:
            label = f"999 rejected transaction set {t.control_number} of file {f.id}"
            counts["claims_rejected"] += _reject_claims(session, f, t.control_number, errors, "999",
                                                        ctx.file.id, label)
    if not ack.transactions and ack.code not in ("A", "E"):
        # the whole group rejected without set detail: every set and claim of the file goes with it
        for ft in f.transactions:
            ft.state, ft.ack_errors = "rejected", group_errors
            counts["sets_rejected"] += 1
        label = f"999 rejected functional group {ack.group_control_number} of file {f.id}"
        counts["claims_rejected"] += _reject_claims(session, f, None, group_errors, "999", ctx.file.id, label)
    f.state = _FILE_STATE.get(ack.code, "rejected")
    f.error = " ".join(e["text"] for e in group_errors) or (
        None if ack.code == "A" else f"999 {ack.code}: {ack.description}")
    counts["files_acknowledged"] += 1


def _apply_ta1(ctx: ApplyContext, isa: Interchange, ta1: Ta1, counts: dict[str, int]) -> None:
    f = _outbound_by_isa(ctx.session, isa, ta1.control_number)
    note = describe(TA1_NOTE_CODES, ta1.note_code)
    text = f"Interchange {ta1.control_number}: {ta1.description} - {note} (TA1 code {ta1.code}, note {ta1.note_code})."
    counts["files_acknowledged"] += 1
    if ta1.code == "A":
        return
    f.error = text
    if ta1.code != "R":
        return
    entry = {"level": "interchange", "segment_id": "ISA", "position": None, "loop": None, "element": None,
             "code": ta1.note_code, "description": note, "text": text}
    f.state = "rejected"
    for ft in f.transactions:
        ft.state, ft.ack_errors = "rejected", [entry]
        counts["sets_rejected"] += 1
    counts["claims_rejected"] += _reject_claims(ctx.session, f, None, [entry], "TA1", ctx.file.id,
                                                f"TA1 rejected interchange {ta1.control_number} of file {f.id}")


def _apply_acks(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    counts = {"files_acknowledged": 0, "sets_accepted": 0, "sets_rejected": 0, "claims_rejected": 0}
    env = open_x12(data)
    acks: list[tuple[Interchange, GroupAck]] = []
    for ts in env:
        if ts.set_id != "999":
            raise ApplyError(f"transaction set {ts.set_id} {ts.control_number} in an acknowledgment file "
                             "(expected 999)", {"segment_number": ts.segment_number, "segment_id": "ST"})
        acks.append((ts.interchange, parse_999(ts)))
    for isa in env.interchanges:
        for seg in isa.ta1:
            _apply_ta1(ctx, isa, parse_ta1(seg), counts)
    for isa, ack in acks:
        _apply_group_ack(ctx, isa, ack, counts)
    if counts["files_acknowledged"] == 0:
        raise ApplyError("the file holds no 999 transaction set and no TA1 segment", {})
    log.info("acknowledgment_applied", file_id=ctx.file.id, **counts)
    return counts


def apply_999(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Apply every 999 (and any TA1) in the file to the outbound files and claims they acknowledge."""
    return _apply_acks(ctx, data)


def apply_ta1(ctx: ApplyContext, data: bytes) -> dict[str, Any]:
    """Apply every TA1 (and any 999) in the file to the outbound interchanges they acknowledge."""
    return _apply_acks(ctx, data)
