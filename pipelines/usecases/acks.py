"""TA1 and 999 acknowledgments applied to the file ledger and the claims.

Tied to the outbound file by ISA13 (TA101) or by GS06 (AK102) and our sender id, each AK2 to a
FileTransaction by ST02. The transaction sets and the file get the acknowledgment's state and every
error in words (``FileTransaction.ack_errors``); claims of a rejected 837P set (or of a rejected
group or interchange) take the lifecycle's ``ACK_REJECTED`` with the reason, when they still await
an answer (submitted, accepted). A 999 alone does not accept a claim: that needs the 277CA
(:mod:`pipelines.usecases.status_responses`). The claims of an acknowledged file are read once per
acknowledgment file; their events go in with one bulk insert and the claims rejected are updated
with one ``UPDATE ... FROM`` (:mod:`pipelines.usecases.bulk`), in the order the one-by-one rules give.

:func:`apply_999` and :func:`apply_ta1` are the appliers of kinds ``999`` and ``TA1``
(:mod:`pipelines.usecases.applier`); either applies every 999 and TA1 the file holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from models import Claim, ClaimStatusEvent, File, utcnow
from pipelines.errors import ApplyError
from pipelines.logs import get_logger
from pipelines.rules.lifecycle import AWAITING_ANSWER, Event, transition
from pipelines.rules.remittance import claim_key, clip_reason, control_key
from pipelines.usecases.applier import ApplyContext
from pipelines.usecases.bulk import copy_rows, copy_update

__all__ = ["apply_999", "apply_ta1"]

log = get_logger("edi")
_FILE_STATE = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted"}
_SET_STATE = {"A": "accepted", "E": "accepted_with_errors"}
_FUNCTIONAL_KIND = {"HC": "837P", "HS": "270", "HR": "276"}
_EVENT = ("claim_pk", "file_id", "source", "category", "code", "description", "created_at")


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


@dataclass
class _Sent:
    """One claim of an acknowledged file, as rejecting it needs it."""

    pk: int
    claim_id: str
    st_key: str  # :func:`control_key` of its ST02
    status: str


class _Rejections:
    """The claims an acknowledgment file rejects: each outbound file's claims read once (one query),
    events and status changes gathered in order and written by :meth:`write` in bulk."""

    def __init__(self, ctx: ApplyContext) -> None:
        self.session, self.file_id = ctx.session, ctx.file.id
        self.sent: dict[int, list[_Sent]] = {}  # by outbound file id, in claim id order
        self.events: list[tuple[Any, ...]] = []
        self.rejected: list[tuple[Any, ...]] = []  # (pk, status, status_reason)
        self.now = utcnow()

    def _claims_of(self, f: File) -> list[_Sent]:
        if f.id not in self.sent:
            self.sent[f.id] = [_Sent(pk, cid, control_key(st), status) for pk, cid, st, status in self.session.execute(
                select(Claim.id, Claim.claim_id, Claim.st_control, Claim.status)
                .where(Claim.file_id == f.id).order_by(Claim.id))]
        return self.sent[f.id]

    def reject(self, f: File, st_control: str | None, errors: Sequence[dict[str, Any]], source: str, label: str) -> int:
        """Claims of ``f`` (of one ST, or all when ``st_control`` is None) move to rejected with the errors;
        returns how many moved."""
        st_key = control_key(st_control) if st_control is not None else None
        own_errors: dict[str, list[dict[str, Any]]] = {}
        for e in errors:
            if e.get("claim_id"):
                own_errors.setdefault(claim_key(str(e["claim_id"])), []).append(e)
        shared = [e for e in errors if not e.get("claim_id")] or list(errors)
        n = 0
        for claim in self._claims_of(f):
            if st_key is not None and claim.st_key != st_key:
                continue
            own = own_errors.get(claim.claim_id, [])
            texts = [str(e["text"]) for e in (own or shared)]
            reason = clip_reason(f"{label}: " + (" ".join(texts) if texts else "rejected, no error detail given."))
            self.events.append((claim.pk, self.file_id, source, "R", own[0]["code"] if own else None, reason,
                                self.now))
            if claim.status in AWAITING_ANSWER:  # a claim rejected before keeps its first reason
                claim.status = transition(claim.status, Event.ACK_REJECTED, claim_id=claim.claim_id).value
                self.rejected.append((claim.pk, claim.status, reason))
                n += 1
        return n

    def write(self) -> None:
        copy_rows(self.session, ClaimStatusEvent, _EVENT, self.events)
        copy_update(self.session, Claim, ("status", "status_reason"), self.rejected, {"updated_at": self.now})


def _apply_group_ack(ctx: ApplyContext, isa: Interchange, ack: GroupAck, counts: dict[str, int],
                     rejections: _Rejections) -> None:
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
            counts["claims_rejected"] += rejections.reject(f, t.control_number, errors, "999", label)
    if not ack.transactions and ack.code not in ("A", "E"):
        # the whole group rejected without set detail: every set and claim of the file goes with it
        for ft in f.transactions:
            ft.state, ft.ack_errors = "rejected", group_errors
            counts["sets_rejected"] += 1
        label = f"999 rejected functional group {ack.group_control_number} of file {f.id}"
        counts["claims_rejected"] += rejections.reject(f, None, group_errors, "999", label)
    f.state = _FILE_STATE.get(ack.code, "rejected")
    f.error = " ".join(e["text"] for e in group_errors) or (
        None if ack.code == "A" else f"999 {ack.code}: {ack.description}")
    counts["files_acknowledged"] += 1


def _apply_ta1(ctx: ApplyContext, isa: Interchange, ta1: Ta1, counts: dict[str, int],
               rejections: _Rejections) -> None:
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
    counts["claims_rejected"] += rejections.reject(f, None, [entry], "TA1",
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
    rejections = _Rejections(ctx)
    for isa in env.interchanges:
        for seg in isa.ta1:
            _apply_ta1(ctx, isa, parse_ta1(seg), counts, rejections)
    for isa, ack in acks:
        _apply_group_ack(ctx, isa, ack, counts, rejections)
    rejections.write()
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
