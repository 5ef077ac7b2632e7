"""`edi deposits import` and `edi deposits list`: bank deposits matched to 835s (CONTRACT section 8).

The deposit file is the bank's list of money in: UTF-8 CSV (a byte-order mark is allowed), header
row, RFC 4180 quoting, columns ``date``, ``amount``, ``reference`` (the EFT trace number, TRN02);
other columns are ignored with one warning naming them. How a line is read and which 835 it
matches is the pure rule :mod:`pipelines.rules.deposits`.

* A line that does not parse is a row error naming its line and fields; the other lines go on.
* The same deposit (date, amount, normalized trace) is stored once: importing the same file
  twice, or a later file that repeats a line, changes nothing (the lines count as duplicates).
* Matching runs on import and again on list, for every deposit still without an 835, so a
  deposit that came before its 835 is matched when the 835 has been posted. A match stays.
* An import that stored or matched something is recorded in the audit trail
  (``deposits_import``), in the same transaction.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Deposit, Remittance, utcnow
from pipelines.errors import InputError
from pipelines.logs import get_logger
from pipelines.rules.deposits import (
    COLUMNS,
    DepositLine,
    DepositRef,
    DepositRowError,
    RemittanceRef,
    match_deposits,
    parse_deposit_row,
)
from pipelines.rules.money import ZERO, money
from pipelines.usecases.audit import record_audit
from pipelines.usecases.uow import UnitOfWork

__all__ = ["DepositImport", "import_deposits", "list_deposits", "match_pending"]

log = get_logger("edi")

_CHUNK = 500
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('edi.deposits.match'))"


@dataclass
class DepositImport:
    """What one deposit file import did."""

    file: str
    lines: int = 0
    inserted: int = 0
    duplicates: int = 0
    matched: int = 0
    inserted_amount: Decimal = ZERO
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "lines": self.lines, "inserted": self.inserted,
                "inserted_amount": money(self.inserted_amount), "duplicates": self.duplicates,
                "matched": self.matched, "rejected": len(self.errors), "ignored_columns": self.ignored_columns,
                "errors": self.errors}


# --- reading the file ------------------------------------------------------------------------------


def _read_rows(path: Path, result: DepositImport) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(line number, row) for every non-blank data row; a row with more fields than the header gets
    the key ``None``. Raises :class:`InputError` for a file that cannot be used at all."""
    try:
        fh = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    with fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: the file is empty (a header row date,amount,reference is needed)")
            names = [h.strip().lower() for h in header]
            missing = [c for c in COLUMNS if c not in names]
            if missing:
                raise InputError(f"{path}: required columns missing: {', '.join(missing)} "
                                 "(the header must name date, amount, reference)")
            extra = [n for n in names if n not in COLUMNS]
            if extra:
                result.ignored_columns = extra
                log.warning("csv_columns_ignored", file=path.name, columns=extra)
            where = {c: names.index(c) for c in COLUMNS}
            line = reader.line_num + 1
            for record in reader:
                if any(v.strip() for v in record):
                    row: dict[str, str | None] = {c: record[i] if i < len(record) else None
                                                  for c, i in where.items()}
                    if len(record) > len(names) and any(v.strip() for v in record[len(names):]):
                        row["extra"] = None
                    yield line, row
                line = reader.line_num + 1
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text (near line {reader.line_num + 1})") from None
        except csv.Error as exc:
            raise InputError(f"{path}: line {reader.line_num}: not valid CSV ({exc})") from None


def _parse_file(path: Path, result: DepositImport) -> dict[tuple[Any, ...], tuple[int, DepositLine]]:
    """The good lines of the file by deposit key (first occurrence); bad ones go to ``result.errors``."""
    good: dict[tuple[Any, ...], tuple[int, DepositLine]] = {}
    for line, row in _read_rows(path, result):
        result.lines += 1
        try:
            if "extra" in row:
                raise DepositRowError([("line", "has more fields than the header (quote an amount written "
                                                "with thousands commas)")])
            dep = parse_deposit_row(row)
        except DepositRowError as exc:
            result.errors.append({"line": line, "fields": exc.fields,
                                  "problems": [f"{f} {m}" for f, m in exc.problems]})
            log.warning("csv_row_rejected", file=path.name, line=line, fields=exc.fields)
            continue
        key = (dep.deposit_date, dep.amount, dep.trace_number)
        if key in good:
            result.duplicates += 1
        else:
            good[key] = (line, dep)
    return good


# --- storing and matching --------------------------------------------------------------------------


def _lock(session: Session) -> None:
    """Serialize matching between processes on PostgreSQL (SQLite has one writer at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(_LOCK))


def _insert_new(session: Session, path: Path, lines: list[tuple[int, DepositLine]]) -> list[int]:
    """Insert the lines not stored yet; returns the new deposit ids (a stored one is skipped)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table: Table = Deposit.__table__  # type: ignore[assignment]
    now = utcnow()
    ids: list[int] = []
    for i in range(0, len(lines), _CHUNK):
        rows = [{"deposit_date": d.deposit_date, "amount": d.amount, "reference": d.reference,
                 "trace_number": d.trace_number, "source_file": path.name[:255], "source_line": n,
                 "imported_at": now} for n, d in lines[i:i + _CHUNK]]
        stmt = (dialect.insert(table).values(rows)
                .on_conflict_do_nothing(index_elements=["deposit_date", "amount", "trace_number"])
                .returning(table.c.id))
        ids.extend(session.scalars(stmt))
    return ids


def match_pending(session: Session) -> dict[int, int]:
    """Match every deposit still without an 835 to a posted, unpaid 835; returns the new matches
    (deposit id -> remittance id). Call it inside the caller's transaction."""
    _lock(session)
    pending = [DepositRef(i, d, a, t) for i, d, a, t in session.execute(
        select(Deposit.id, Deposit.deposit_date, Deposit.amount, Deposit.trace_number)
        .where(Deposit.remittance_id.is_(None)))]
    if not pending:
        return {}
    paid = select(Deposit.remittance_id).where(Deposit.remittance_id.is_not(None))
    amounts = sorted({d.amount for d in pending})
    candidates: list[RemittanceRef] = []
    for i in range(0, len(amounts), _CHUNK):
        candidates.extend(RemittanceRef(i_, t, a, p) for i_, t, a, p in session.execute(
            select(Remittance.id, Remittance.trace_number, Remittance.amount, Remittance.payment_date)
            .where(Remittance.amount.in_(amounts[i:i + _CHUNK]), Remittance.id.not_in(paid))))
    matches = match_deposits(pending, candidates)
    now = utcnow()
    for deposit_id, remittance_id in matches.items():
        session.execute(update(Deposit).where(Deposit.id == deposit_id)
                        .values(remittance_id=remittance_id, matched_at=now))
    if matches:
        log.info("deposits_matched", deposits=len(matches))
    return matches


def import_deposits(uow: UnitOfWork, path: str | Path) -> DepositImport:
    """`edi deposits import FILE`: store the file's new deposit lines, match what can be matched,
    and record the import in the audit trail, all in one transaction."""
    path = Path(path)
    result = DepositImport(str(path))
    good = _parse_file(path, result)
    lines = sorted(good.values(), key=lambda item: item[0])
    with uow.transaction() as session:
        _lock(session)
        new_ids = _insert_new(session, path, lines)
        result.inserted = len(new_ids)
        result.duplicates += len(lines) - len(new_ids)
        if new_ids:
            result.inserted_amount = sum(session.scalars(select(Deposit.amount).where(Deposit.id.in_(new_ids))),
                                         ZERO)
        matches = match_pending(session)
        result.matched = len(matches)
        if new_ids or matches:
            record_audit(session, "deposits_import", f"deposit file {path.name}", {
                "file": path.name, "lines": result.lines, "inserted": result.inserted,
                "inserted_amount": money(result.inserted_amount), "duplicates": result.duplicates,
                "rejected": len(result.errors), "deposit_ids": sorted(new_ids),
                "matched": {str(d): r for d, r in sorted(matches.items())}})
    log.info("deposits_imported", file=path.name, lines=result.lines, inserted=result.inserted,
             duplicates=result.duplicates, matched=result.matched, rejected=len(result.errors))
    return result


# --- listing ---------------------------------------------------------------------------------------


def _era(r: Remittance) -> dict[str, Any]:
    return {"remittance_id": r.id, "file_id": r.file_id, "payer": r.payer_name or r.payer_key,
            "trace_number": r.trace_number, "payment_date": r.payment_date.isoformat() if r.payment_date else None,
            "method": r.method, "amount": money(r.amount)}


def _deposit(d: Deposit, r: Remittance | None) -> dict[str, Any]:
    return {"deposit_id": d.id, "date": d.deposit_date.isoformat(), "amount": money(d.amount),
            "reference": d.reference, "trace_number": d.trace_number, "source_file": d.source_file,
            "source_line": d.source_line, "era": _era(r) if r is not None else None}


def _totals(session: Session) -> dict[str, Any]:
    count, total = session.execute(select(func.count(Deposit.id), func.sum(Deposit.amount))).one()
    open_count, open_total = session.execute(select(func.count(Deposit.id), func.sum(Deposit.amount))
                                             .where(Deposit.remittance_id.is_(None))).one()
    return {"deposits": count, "deposited_amount": money(total), "matched": count - open_count,
            "deposits_without_era": open_count, "deposits_without_era_amount": money(open_total)}


def list_deposits(uow: UnitOfWork, *, unmatched_only: bool = False) -> dict[str, Any]:
    """`edi deposits list [--unmatched]`: the deposits (each with its 835, or none), the 835s that
    moved money but have no deposit, and totals. Matches what can be matched first."""
    with uow.transaction() as session:
        match_pending(session)
        query = (select(Deposit, Remittance).outerjoin(Remittance, Deposit.remittance_id == Remittance.id)
                 .order_by(Deposit.deposit_date, Deposit.id))
        if unmatched_only:
            query = query.where(Deposit.remittance_id.is_(None))
        deposits = [_deposit(d, r) for d, r in session.execute(query)]
        eras = [_era(r) for r in session.scalars(
            select(Remittance).outerjoin(Deposit, Deposit.remittance_id == Remittance.id)
            .where(Deposit.id.is_(None), Remittance.amount != ZERO)  # rules.deposits.expects_deposit
            .order_by(Remittance.payment_date.asc().nulls_last(), Remittance.id))]
        totals = _totals(session)
    totals |= {"eras_without_deposit": len(eras),
               "eras_without_deposit_amount": money(sum((Decimal(e["amount"]) for e in eras), ZERO))}
    return {"unmatched_only": unmatched_only, "deposits": deposits, "eras_without_deposit": eras,
            "totals": totals}

