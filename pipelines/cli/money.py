"""Commands on money and the audit trail: `edi deposits import FILE`, `edi deposits list [--unmatched]`,
`edi audit list`. Amounts are right-aligned as "$1,234.56" for people; ``--json`` keeps "1234.56"."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipelines.cli.app import App, Command
from pipelines.cli.table import render_table, usd
from pipelines.usecases.audit import list_audit
from pipelines.usecases.deposits import import_deposits, list_deposits

__all__ = ["COMMANDS"]



def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int]) -> str:
    """:func:`render_table` with the columns ``right`` (indexes) right-aligned, header included."""
    cells = [["" if c is None else str(c) for c in r] for r in rows]
    heads = list(headers)
    for i in right:
        width = max([len(heads[i]), *(len(r[i]) for r in cells)])
        heads[i] = heads[i].rjust(width)
        for r in cells:
            r[i] = r[i].rjust(width)
    return render_table(heads, cells)


def cmd_deposits_import(app: App, args: argparse.Namespace) -> int:
    """`edi deposits import FILE`: exit 1 when a line was refused (the others are stored)."""
    result = import_deposits(app.uow, args.file)
    name = Path(result.file).name
    if not app.json:
        for e in result.errors:
            print(f"{name}: line {e['line']}: {'; '.join(e['problems'])}", file=sys.stderr)

    def text() -> str:
        lines = [f"{name}: {result.inserted} deposit(s) added ({usd(result.inserted_amount)}), "
                 f"{result.duplicates} already imported, {len(result.errors)} line(s) rejected; "
                 f"{result.matched} deposit(s) matched to an 835"]
        if result.ignored_columns:
            lines.append(f"ignored columns: {', '.join(result.ignored_columns)}")
        return "\n".join(lines)

    app.emit(result.as_dict(), text)
    return 1 if result.errors else 0


def _deposits_text(data: dict[str, Any]) -> str:
    t = data["totals"]
    out = [f"Deposits{' without an 835' if data['unmatched_only'] else ''}: {len(data['deposits'])}"]
    if data["deposits"] and data["unmatched_only"]:
        rows = [[d["deposit_id"], d["date"], usd(d["amount"]), d["reference"],
                 f"{d['source_file']}:{d['source_line']}"] for d in data["deposits"]]
        out.append(_table(["id", "date", "amount", "reference", "imported from"], rows, [2]))
    elif data["deposits"]:
        rows = []
        for d in data["deposits"]:
            era = d["era"]
            rows.append([d["deposit_id"], d["date"], usd(d["amount"]), d["reference"],
                         f"835 in file {era['file_id']}" if era else "no 835",
                         era["payer"] if era else "", era["payment_date"] if era else ""])
        out.append(_table(["id", "date", "amount", "reference", "matched", "payer", "paid on"], rows, [2]))
    out.append("")
    out.append(f"835s without a deposit: {len(data['eras_without_deposit'])}")
    if data["eras_without_deposit"]:
        rows = [[e["remittance_id"], e["file_id"], e["payment_date"], e["payer"], e["trace_number"],
                 e["method"], usd(e["amount"])] for e in data["eras_without_deposit"]]
        out.append(_table(["835", "file", "paid on", "payer", "trace", "method", "amount"], rows, [6]))
    out.append("")
    out.append(f"{t['deposits']} deposit(s) of {usd(t['deposited_amount'])}, {t['matched']} matched; "
               f"without an 835: {t['deposits_without_era']} ({usd(t['deposits_without_era_amount'])}); "
               f"835s without a deposit: {t['eras_without_deposit']} "
               f"({usd(t['eras_without_deposit_amount'])})")
    return "\n".join(out)


def cmd_deposits_list(app: App, args: argparse.Namespace) -> int:
    """`edi deposits list [--unmatched]`: deposits with their 835, and 835s without a deposit."""
    data = list_deposits(app.uow, unmatched_only=args.unmatched)
    app.emit(data, lambda: _deposits_text(data))
    return 0


def _detail(detail: dict[str, Any]) -> str:
    """``key=value, ...``; a list or mapping of more than five items shows as its size."""
    shown = []
    for key, value in detail.items():
        if isinstance(value, (list, dict)) and len(value) > 5:
            shown.append(f"{key}=({len(value)} items)")
        elif isinstance(value, dict):
            shown.append(f"{key}={{{', '.join(f'{k}: {v}' for k, v in value.items())}}}")
        else:
            shown.append(f"{key}={value}")
    return ", ".join(shown)


def cmd_audit_list(app: App, args: argparse.Namespace) -> int:
    """`edi audit list [--limit N]`: the audit trail, newest first."""
    events = list_audit(app.uow, limit=args.limit)

    def text() -> str:
        if not events:
            return "the audit trail is empty"
        rows = [[e["id"], e["at"][:19].replace("T", " "), e["os_user"], e["host"], e["action"]
                 + (" (forced)" if e["forced"] else ""), e["subject"], _detail(e["detail"])] for e in events]
        return render_table(["id", "at (UTC)", "user", "host", "action", "subject", "what changed"], rows)

    app.emit({"events": events}, text)
    return 0


COMMANDS: dict[tuple[str, ...], Command] = {
    ("deposits", "import"): cmd_deposits_import,
    ("deposits", "list"): cmd_deposits_list,
    ("audit", "list"): cmd_audit_list,
}
