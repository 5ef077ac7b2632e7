"""Acknowledgements: the TA1 for an interchange that cannot be read, the 999 per functional group (which
sets are accepted), and the 277CA per 837P file (the front-end edit: each claim A1/A2 with a payer
claim number, or A7)."""

from __future__ import annotations

from typing import Any

from edi.x277 import ClaimStatus, ClaimStatusReport, Person, ProviderStatus, Status, build_277ca
from edi.x277 import Party as Party277
from edi.x999 import GroupAck, SegmentError, Ta1, TransactionAck, build_999, build_ta1
from pipelines.simulator.amounts import ZERO
from pipelines.simulator.context import Context, ToPay
from pipelines.simulator.payers import valid_member_id
from pipelines.simulator.reading import (
    ReceivedGroup,
    ReceivedSet,
    SetRejected,
    SubmittedBatch,
    SubmittedClaim,
    isa_ids,
    read_837,
    read_inquiry,
)

__all__ = ["Accepted", "ToPay", "acknowledge", "answer_837", "answer_unreadable"]

Accepted = list[tuple[str, ReceivedSet, Any]]  # (set id, the set, what reading it gave)


# --------------------------------------------------------------------------------------------
# TA1 and 999
# --------------------------------------------------------------------------------------------


def answer_unreadable(ctx: Context, data: bytes, note: str, stem: str) -> None:
    """A TA1 R with ``note`` for a file whose interchange cannot be read."""
    sender, receiver, control = isa_ids(data)
    text = build_ta1(Ta1(control, ctx.as_of, f"{ctx.created:%H%M}", "R", note), envelope=ctx.envelope(receiver, sender, group=False))
    ctx.write("TA1", stem, text)
    ctx.count("files_rejected")


def _check_set(s: ReceivedSet) -> tuple[TransactionAck, Any]:
    """The 999 AK2/IK5 of one set and, when accepted, what reading it gave."""
    impl = s.implementation or None
    if s.findings:
        return TransactionAck(s.ts_set_id, s.control_number, "R", impl, tuple(dict.fromkeys(s.findings))), None
    try:
        if s.ts_set_id == "837":
            parsed: Any = read_837(s.segments, s.comp)
        elif s.ts_set_id in ("270", "276"):
            parsed = read_inquiry(s.segments, s.ts_set_id)
        else:
            return TransactionAck(s.ts_set_id, s.control_number, "R", impl, ("1",)), None
    except SetRejected as exc:
        # positions in a 999 count from ST = 1; the reader counted from the segment after ST
        errs = tuple(SegmentError(e.segment_id, e.position + 1, e.loop_id, e.code, e.elements)
                     for e in exc.segment_errors)
        return TransactionAck(s.ts_set_id, s.control_number, "R", impl, exc.codes, errs), None
    return TransactionAck(s.ts_set_id, s.control_number, "A", impl), parsed


def acknowledge(ctx: Context, groups: list[ReceivedGroup], clearinghouse: str, us: str, stem: str) -> Accepted:
    """Write the 999 of a file's groups; the sets accepted (a group with envelope errors accepts none)."""
    acks: list[GroupAck] = []
    accepted: Accepted = []
    for g in groups:
        txs: list[TransactionAck] = []
        for s in g.sets:
            ack, parsed = _check_set(s)
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
        ctx.write("999", stem, build_999(acks, envelope=ctx.envelope(clearinghouse, us)))
    if any(a.code == "R" for a in acks):
        ctx.count("files_rejected")
    return accepted


# --------------------------------------------------------------------------------------------
# 277CA
# --------------------------------------------------------------------------------------------


def _front_end(ctx: Context, c: SubmittedClaim) -> Status | None:
    """The clearinghouse/payer front-end edit: a rejection status, or None when accepted."""
    if not valid_member_id(c.member_id):
        return Status("A7", "164", "IL", ctx.as_of, "U", c.charge)
    if sum((ln.charge for ln in c.lines), ZERO) != c.charge:
        return Status("A7", "400", None, ctx.as_of, "U", c.charge)
    if not c.payer_id:
        return Status("A7", "116", "PR", ctx.as_of, "U", c.charge)
    return None


def _claim_status(ctx: Context, c: SubmittedClaim, to_pay: ToPay, b: SubmittedBatch) -> ClaimStatus:
    """One claim's 277CA status; an accepted claim gets a payer claim number and goes to ``to_pay``."""
    first, last = c.service_dates
    patient = Person(c.patient[0], c.patient[1] or None, c.member_id or None)
    reject = _front_end(ctx, c)
    ch_trace = f"SIM{ctx.state.next('ch_trace'):08d}"
    if reject is not None:
        ctx.state.claims[c.claim_id] = {"status": "rejected", "payer_id": c.payer_id, "charge": str(c.charge)}
        ctx.count("claims_rejected")
        return ClaimStatus(c.claim_id, (reject,), patient, clearinghouse_trace=ch_trace,
                           service_date=first or ctx.as_of, service_date_end=last)
    pcn = f"{ctx.as_of:%y%j}{ctx.state.next('pcn'):06d}"
    ctx.state.claims[c.claim_id] = {"status": "accepted", "payer_id": c.payer_id,
                                    "payer_claim_number": pcn, "charge": str(c.charge)}
    ctx.count("claims_accepted")
    to_pay.setdefault(c.payer_id, []).append((b, c, pcn))
    return ClaimStatus(
        c.claim_id, (Status("A1", "19", "PR", ctx.as_of, "WQ", c.charge),
                     Status("A2", "20", "PR", ctx.as_of, "WQ", c.charge)),
        patient, payer_claim_number=pcn, clearinghouse_trace=ch_trace,
        service_date=first or ctx.as_of, service_date_end=last)


def answer_837(ctx: Context, batches: list[SubmittedBatch], clearinghouse: str, us: str, stem: str) -> ToPay:
    """Write the 277CA of a file's 837P sets; the accepted claims by payer, for the 835s."""
    reports: list[ClaimStatusReport] = []
    to_pay: ToPay = {}
    for b in batches:
        claims = [_claim_status(ctx, c, to_pay, b) for c in b.claims]
        total = sum((c.charge for c in b.claims), ZERO)
        reports.append(ClaimStatusReport(
            source=Party277(b.receiver_name or "CLEARINGHOUSE", clearinghouse, "46"),
            receiver=Party277(b.submitter_name or us, b.submitter_id or us, "46"),
            providers=(ProviderStatus(Party277(b.billing_name, b.billing_npi, "XX"), tuple(claims), trace="0",
                                      statuses=(Status("A1", "19", "PR", None, "WQ", total),)),),
            created=ctx.as_of, created_time=f"{ctx.created:%H%M}",
            reference=f"277CA{ctx.state.next('277ca'):06d}",
            source_trace=f"SIMB{ctx.state.counters['277ca']:06d}", receipt_date=ctx.as_of,
            process_date=ctx.as_of, receiver_trace=b.reference,
            receiver_statuses=(Status("A1", "19", "PR", ctx.as_of, "WQ", total),)))
    ctx.write("277CA", stem, build_277ca(reports, envelope=ctx.envelope(clearinghouse, us)))
    return to_pay
