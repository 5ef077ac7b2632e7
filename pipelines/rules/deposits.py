"""Bank deposits and 835s: reading one deposit line, and which deposit pays which 835 (pure).

A deposit line (CSV columns ``date``, ``amount``, ``reference``) is the bank's record of money in.
The reference holds the EFT trace number the payer also put in the 835's TRN02; a deposit matches
the 835 (a remittance) with the same trace number and the same amount.

Choices where the contract is silent:

* **Trace numbers are compared normalized**: every space removed, upper case, leading zeros
  dropped (``" 000ab 123 "`` -> ``"AB123"``). Banks pad the ACH trace with zeros and print it in
  their own case; the payer's TRN02 is kept as sent and normalized the same way for the
  comparison. A reference that is empty once normalized (``"000"``) is a row error.
* **Amounts** are dollars with at most two decimals, optionally with a sign, a ``$`` and thousands
  commas (``1234.56``, ``$1,234.56``, ``-25.00``); more decimals or zero are row errors (money is
  never rounded silently, and no money moved for zero). A debit (negative amount) matches a
  debit 835 (BPR03 = D), which the ledger stores negated.
* **Dates** are ``YYYY-MM-DD`` or the US bank form ``MM/DD/YYYY``.
* **Each 835 is paid by at most one deposit** and a match, once made, stays. When several
  unmatched 835s share a deposit's trace and amount (two payers using the same trace), the one
  whose payment date (BPR16) is nearest the deposit date wins, then the oldest (lowest id).
  Deposits are matched in date order, then in the order they were imported.
* An 835 with no money (amount zero: ``NON`` payment, a notice only) expects no deposit and never
  shows as "without a deposit".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pipelines.rules.money import ZERO

__all__ = [
    "COLUMNS",
    "DepositLine",
    "DepositRef",
    "DepositRowError",
    "RemittanceRef",
    "expects_deposit",
    "match_deposits",
    "normalize_trace",
    "parse_amount",
    "parse_deposit_date",
    "parse_deposit_row",
]

COLUMNS = ("date", "amount", "reference")
MAX_REFERENCE = 80
_AMOUNT = re.compile(r"^([+-])?\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SPACE = re.compile(r"\s+")


class DepositRowError(ValueError):
    """A deposit line that cannot be stored; ``problems`` are (field, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))
        self.problems = list(problems)

    @property
    def fields(self) -> list[str]:
        return [f for f, _ in self.problems]


@dataclass(frozen=True, slots=True)
class DepositLine:
    """One parsed deposit line: the trace number is the reference normalized."""

    deposit_date: date
    amount: Decimal
    reference: str
    trace_number: str


@dataclass(frozen=True, slots=True)
class DepositRef:
    """What matching needs of a stored deposit (``trace_number`` already normalized)."""

    id: int
    deposit_date: date
    amount: Decimal
    trace_number: str


@dataclass(frozen=True, slots=True)
class RemittanceRef:
    """What matching needs of a posted 835 (``trace_number`` as the payer sent it)."""

    id: int
    trace_number: str
    amount: Decimal
    payment_date: date | None


def normalize_trace(reference: str) -> str:
    """The trace number in a bank reference or a TRN02, in the form both are compared in."""
    return _SPACE.sub("", reference).upper().lstrip("0")


def parse_amount(text: str) -> Decimal:
    """``1234.56``, ``$1,234.56``, ``-25`` -> Decimal cents; raises ValueError saying what is wrong."""
    m = _AMOUNT.match(text.strip())
    if not m:
        if re.match(r"^[+-]?\$?[\d,]*\.\d{3,}$", text.strip()):
            raise ValueError(f"{text.strip()!r} has more than two decimals")
        raise ValueError(f"{text.strip()!r} is not an amount like 1234.56")
    sign, whole, frac = m.groups()
    value = Decimal(whole.replace(",", "") + "." + (frac or "0").ljust(2, "0"))
    if value == ZERO:
        raise ValueError("is zero (no money moved)")
    return -value if sign == "-" else value


def parse_deposit_date(text: str) -> date:
    """``YYYY-MM-DD`` or ``MM/DD/YYYY``; raises ValueError."""
    value = text.strip()
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)
        m = _US_DATE.match(value)
        if m:
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def parse_deposit_row(row: Mapping[str, str | None]) -> DepositLine:
    """One CSV row (column name -> text) as a :class:`DepositLine`; raises :class:`DepositRowError`
    naming every field that is wrong."""
    problems: list[tuple[str, str]] = []
    values: dict[str, object] = {}
    for name, parse in (("date", parse_deposit_date), ("amount", parse_amount)):
        text = (row.get(name) or "").strip()
        if not text:
            problems.append((name, "is empty"))
            continue
        try:
            values[name] = parse(text)
        except ValueError as exc:
            problems.append((name, str(exc)))
    reference = (row.get("reference") or "").strip()
    if not reference:
        problems.append(("reference", "is empty (it holds the EFT trace number, TRN02)"))
    elif len(reference) > MAX_REFERENCE:
        problems.append(("reference", f"is longer than {MAX_REFERENCE} characters"))
    elif not normalize_trace(reference):
        problems.append(("reference", f"{reference!r} holds no trace number"))
    if problems:
        raise DepositRowError(problems)
    deposit_date, amount = values["date"], values["amount"]
    assert isinstance(deposit_date, date) and isinstance(amount, Decimal)
    return DepositLine(deposit_date, amount, reference, normalize_trace(reference))


def expects_deposit(amount: Decimal) -> bool:
    """Whether an 835 of this amount moves money, so that a deposit should show for it."""
    return amount != ZERO


def _distance(deposit_date: date, payment_date: date | None) -> int:
    if payment_date is None:
        return 1 << 30
    return abs((deposit_date - payment_date).days)


def match_deposits(deposits: Iterable[DepositRef], remittances: Iterable[RemittanceRef],
                   taken: Iterable[int] = ()) -> dict[int, int]:
    """deposit id -> remittance id for the ``deposits`` that find an 835 (see the module docstring).

    ``remittances`` are the candidates; ``taken`` the ids of those already paid by another deposit.
    """
    used = set(taken)
    by_key: dict[tuple[str, Decimal], list[RemittanceRef]] = {}
    for r in remittances:
        if expects_deposit(r.amount):
            by_key.setdefault((normalize_trace(r.trace_number), r.amount), []).append(r)
    out: dict[int, int] = {}
    for d in sorted(deposits, key=lambda d: (d.deposit_date, d.id)):
        free = [r for r in by_key.get((d.trace_number, d.amount), ()) if r.id not in used]
        if not free:
            continue
        best = min(free, key=lambda r: (_distance(d.deposit_date, r.payment_date), r.id))
        used.add(best.id)
        out[d.id] = best.id
    return out

