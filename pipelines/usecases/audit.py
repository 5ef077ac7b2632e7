"""The audit trail (HIPAA audit controls): who did what that changed money or sent PHI.

:func:`record_audit` is called by a use case inside its own transaction, so the audit row commits
or rolls back with the change it records. Actions recorded (CONTRACT section 3): ``replay``
(with ``forced`` for ``--force``), ``resubmit``, ``codes_import``, ``deposits_import``. The
``detail`` holds counts, ids, control numbers and amounts — never a patient's name, date of
birth, member id, address or diagnosis. :func:`list_audit` is `edi audit list`, newest first.
"""

from __future__ import annotations

import getpass
import os
import socket
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, utcnow
from pipelines.logs import get_logger
from pipelines.usecases.uow import UnitOfWork

__all__ = ["ACTIONS", "list_audit", "os_user", "record_audit"]

log = get_logger("edi")

ACTIONS = ("replay", "resubmit", "codes_import", "deposits_import")
"""The actions of the trail; others may be added, these are the ones the contract names."""


def os_user() -> str:
    """The operating-system user running the command (login name, else ``uid:N``, else unknown)."""
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError, ImportError):
        getuid = getattr(os, "getuid", None)
        return f"uid:{getuid()}" if getuid is not None else "unknown"


def record_audit(session: Session, action: str, subject: str, detail: dict[str, Any], *,
                 forced: bool = False) -> AuditEvent:
    """Add one audit event to ``session``'s transaction: now, this OS user and host, ``action`` on
    ``subject`` (e.g. "file 12", "claim C000123"), ``detail`` (JSON: what changed, no PHI)."""
    event = AuditEvent(at=utcnow(), os_user=os_user(), host=socket.gethostname()[:255] or "unknown",
                       action=action[:32], subject=subject[:255], detail=detail, forced=forced)
    session.add(event)
    session.flush()
    log.info("audit_recorded", audit_id=event.id, action=event.action, subject=event.subject, forced=forced)
    return event


def _as_dict(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "os_user": e.os_user, "host": e.host, "action": e.action,
            "subject": e.subject, "forced": e.forced, "detail": e.detail}


def list_audit(uow: UnitOfWork, *, limit: int | None = None) -> list[dict[str, Any]]:
    """The audit events, newest first (the ``limit`` newest when given), ready for ``--json``."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit is not None:
        query = query.limit(limit)
    with uow.transaction() as session:
        return [_as_dict(e) for e in session.scalars(query)]
