"""`edi replay` of an outbound file: send it again without billing twice (:func:`resend_outbound`).

* A file not yet acknowledged (``built`` or ``sent``, every claim in it still ``submitted``), which
  the clearinghouse lost, is put in the upload folder again byte for byte, without ``--force``.
* A file that was accepted (999), or any of whose claims were acknowledged or adjudicated, is
  refused without ``force`` (:class:`pipelines.errors.UsageError`, exit 2) with what it would
  re-send. With ``force``, an 837P is not sent as it was: a new 837P (new control numbers, built
  by :func:`pipelines.usecases.submit.build_claim_batch`, recorded by
  :func:`pipelines.usecases.outbound.write_outbound`) carries the file's claims that are not
  adjudicated (lifecycle ``FINAL``: paid, denied, patient_responsibility, reversed, void). Any other
  kind (270, 276) is sent again as it was.
* ``claim_ids`` (``--claim``, 837P only) re-sends exactly the claims named, adjudicated or not; they
  must be in the file. Naming claims always builds a new 837P.

A re-sent claim keeps its status (the lifecycle has no move for a copy sent again; a 999 or 277CA
answering the new file moves it as usual); its ``file_id`` and ``st_control`` point to the new
file, and a ClaimStatusEvent says which file re-sent it. Every replay is recorded in the audit trail
(action ``replay``, direction ``out``, kind, state, the claim ids re-sent), after the upload, in its
own transaction, also when the upload failed (the new file then stays ``built`` for the next run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from edi.errors import BuildError, EdiError
from edi.x12 import open_x12
from edi.x837p import build_837p, parse_837p
from models import Claim, ClaimStatusEvent, Encounter, File, utcnow
from pipelines.config import Config
from pipelines.errors import NotFound, UsageError
from pipelines.logs import get_logger
from pipelines.rules.lifecycle import FINAL, ClaimStatus
from pipelines.usecases.audit import record_audit
from pipelines.usecases.ledger import read_archived_bytes
from pipelines.usecases.legs import prior_adjudications
from pipelines.usecases.outbound import allocate_controls, upload_file, write_outbound
from pipelines.usecases.submit import build_claim_batch
from pipelines.usecases.uow import UnitOfWork
from transports import Mailbox

__all__ = ["ACKNOWLEDGED_FILE_STATES", "Resent", "resend_outbound"]

log = get_logger("edi")

ACKNOWLEDGED_FILE_STATES = frozenset({"accepted", "accepted_with_errors", "partially_accepted"})
"""Outbound file states (from a 999) after which a replay needs ``--force``."""


@dataclass(frozen=True)
class Resent:
    """What an outbound replay sent: the file that went out (the same one, or a new 837P), its state,
    the claims in it, and the file's adjudicated claims left out (claim id and status)."""

    file_id: int
    name: str
    state: str
    sent_file_id: int
    claims: list[str] = field(default_factory=list)
    left_out: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """What a replay of one outbound file would do, decided before anything is sent."""

    file_id: int
    name: str
    kind: str
    state: str
    why_force: str | None  # None: the file may be sent again without --force
    resend: list[str]  # claim ids
    left_out: list[dict[str, str]]
    new_file: bool  # build a new 837P of ``resend`` (else the stored bytes go out again)


def _file_claims(session: Session, f: File) -> list[Claim]:
    """The claims the file carried: those pointing to it, and the CLM01s of its stored 837P."""
    ids: set[str] = set()
    if f.kind == "837P":
        try:
            ids = {c.claim_id for ts in open_x12(read_archived_bytes(f)) if ts.set_id == "837"
                   for c in parse_837p(ts).claims}
        except (EdiError, OSError):
            ids = set()
    cond = or_(Claim.file_id == f.id, Claim.claim_id.in_(sorted(ids))) if ids else Claim.file_id == f.id
    return list(session.scalars(select(Claim).where(cond).order_by(Claim.id).options(selectinload(Claim.lines))))


def _why_force(f: File, claims: Sequence[Claim]) -> str | None:
    """Why sending this file again needs --force, or None."""
    if f.state in ACKNOWLEDGED_FILE_STATES:
        return f"was {f.state.replace('_', ' ')} by the clearinghouse"
    answered = [f"{c.claim_id} {c.status}" for c in claims if c.status != ClaimStatus.SUBMITTED]
    if answered:
        return "has claims that were acknowledged or adjudicated (" + ", ".join(answered) + ")"
    return None


def _plan(session: Session, f: File, claim_ids: Sequence[str]) -> tuple[_Plan, list[Claim]]:
    """What to send again, and the claims to put in a new 837P; UsageError for a claim not in the file."""
    claims = _file_claims(session, f)
    if claim_ids and f.kind != "837P":
        raise UsageError(f"file {f.id} is a {f.kind}; --claim applies to an 837P only")
    by_id = {c.claim_id: c for c in claims}
    unknown = [cid for cid in claim_ids if cid not in by_id]
    if unknown:
        raise UsageError(f"claim {', '.join(unknown)} is not in file {f.id} (its claims: "
                         f"{', '.join(by_id) or 'none'})")
    why = _why_force(f, claims)
    new_file = f.kind == "837P" and (why is not None or bool(claim_ids))
    if claim_ids:
        chosen = [by_id[cid] for cid in dict.fromkeys(claim_ids)]
    else:
        chosen = [c for c in claims if c.status not in FINAL] if new_file else claims
    picked = {c.claim_id for c in chosen}
    left_out = [{"claim_id": c.claim_id, "status": str(c.status)} for c in claims
                if c.claim_id not in picked and c.status in FINAL]
    plan = _Plan(f.id, f.name, f.kind, f.state, why, [c.claim_id for c in chosen], left_out, new_file)
    return plan, chosen


def _refusal(plan: _Plan) -> str:
    """The message of a replay that needs --force: why, and what it would re-send."""
    if plan.new_file:
        what = (f"it would re-send {len(plan.resend)} claim(s) in a new 837P: {', '.join(plan.resend)}"
                if plan.resend else "it would re-send no claim")
    else:
        what = f"it would send the {plan.kind} again as it was"
    left = ""
    if plan.left_out:
        left = ("; left out as adjudicated (name one with --claim to include it): "
                + ", ".join(f"{d['claim_id']} {d['status']}" for d in plan.left_out))
    return (f"file {plan.file_id} ({plan.kind} {plan.name}) {plan.why_force}; {what}{left}. "
            f"Review, then `edi replay {plan.file_id} --force` to send it.")


def _build_new_file(config: Config, session: Session, f: File, claims: Sequence[Claim]) -> File:
    """A new 837P of ``claims`` recorded ``built``; the claims point to it (status unchanged)."""
    now = utcnow()
    encounters = {c.encounter_id: session.get(Encounter, c.encounter_id) for c in claims}
    controls = allocate_controls(session, config.clearinghouse.submitter_id)
    try:
        batch = build_claim_batch(config, claims, encounters, batch_reference=f"{controls.isa:09d}",
                                  priors=prior_adjudications(session, claims))
        text = build_837p(batch, envelope=controls.envelope(created=now, usage=config.clearinghouse.usage))
    except (BuildError, KeyError, AttributeError) as exc:
        reason = str(exc) if isinstance(exc, BuildError) else "an encounter or payer is no longer on file"
        raise UsageError(f"file {f.id}: its claims cannot be built into a new 837P: {reason}") from exc
    st = controls.st_control()
    new = write_outbound(config, session, kind="837P", text=text, controls=controls, st_controls=[("837", st)])
    for c in claims:
        c.file_id, c.st_control, c.updated_at = new.id, st, now
        session.add(ClaimStatusEvent(claim_pk=c.id, file_id=new.id, source="edi",
                                     description=f"re-sent in file {new.id} (replay of file {f.id})"))
    return new


def resend_outbound(config: Config, uow: UnitOfWork, file_id: int, *, force: bool = False,
                    claim_ids: Sequence[str] = (), open_mailbox: Callable[[], Mailbox]) -> Resent:
    """Send an outbound file again (see the module docstring); the mailbox is opened only to upload.

    Raises NotFound for an unknown file, UsageError when the replay needs ``force`` (saying what it
    would re-send), names a claim not in the file, or has nothing left to send.
    """
    with uow.transaction() as session:
        f = session.get(File, file_id)
        if f is None or f.direction != "out":
            raise NotFound(f"no outbound file with id {file_id}")
        plan, claims = _plan(session, f, claim_ids)
        if plan.why_force is not None and not force:
            raise UsageError(_refusal(plan))
        if plan.new_file and not claims:
            raise UsageError(f"file {file_id}: nothing to re-send, every claim in it is adjudicated ("
                             + ", ".join(f"{d['claim_id']} {d['status']}" for d in plan.left_out)
                             + "); name one with --claim to re-send it")
        sent_id = _build_new_file(config, session, f, claims).id if plan.new_file else file_id
    error: BaseException | None = None
    try:
        with closing(open_mailbox()) as mailbox:
            sent = upload_file(config, uow, mailbox, sent_id, force=not plan.new_file)
        state, name = sent.state, sent.name
    except Exception as exc:  # audited below, then raised as it was
        error, state, name = exc, "built" if plan.new_file else plan.state, plan.name
    _audit(uow, plan, sent_id, state, force, error)
    if error is not None:
        raise error
    log.info("file_replayed", file_id=file_id, sent_file_id=sent_id, claims=len(plan.resend), forced=force)
    return Resent(file_id, name, state, sent_id, plan.resend, plan.left_out)


def _audit(uow: UnitOfWork, plan: _Plan, sent_id: int, state: str, force: bool, error: BaseException | None) -> None:
    """The replay in the audit trail, in its own transaction: what went out (no PHI: ids and counts)."""
    detail: dict[str, Any] = {"direction": "out", "kind": plan.kind, "state": state, "claims": plan.resend,
                              "sent_file_id": sent_id, "new_file": plan.new_file,
                              "left_out": [d["claim_id"] for d in plan.left_out]}
    if error is not None:
        detail["upload_error"] = f"{type(error).__name__}: {error}"[:500]
    with uow.transaction() as session:
        record_audit(session, "replay", f"file {plan.file_id}", detail, forced=force)
