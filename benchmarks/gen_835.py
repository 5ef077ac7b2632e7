"""Generate a balanced N-claim 835 file with :func:`edi.x835.build_835` (deterministic by seed).

    python benchmarks/gen_835.py --claims 20000 --seed 1 out.x12

Behavioral-health claims with one to three lines, contractual (CO 45) and patient responsibility
(PR 1/2/3) adjustments in several CAS segments, denials (CO 197 with LQ N54), crossovers (CLP02 19),
reversals (CLP02 22 with negated amounts) each followed by its correction, and PLB adjustments
(WO with a reference, L6 interest, 72). Claims are split into transaction sets (and interchanges)
of at most ``--per-set`` claims, so that the builder never holds more than one set in memory.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from edi.x835 import (
    Adjustment,
    ClaimPayment,
    Contact,
    EnvelopeSpec,
    Name,
    Party,
    Payment,
    ProviderAdjustment,
    Remittance835,
    ServiceLine,
    build_835,
)

__all__ = ["generate", "main", "write_file"]

CENT = Decimal("0.01")
FEES = {"90791": Decimal("250"), "90834": Decimal("150"), "90837": Decimal("180"), "90832": Decimal("95"),
        "99214": Decimal("160"), "90833": Decimal("80"), "90853": Decimal("60"), "H0004": Decimal("30"),
        "90785": Decimal("25"), "90847": Decimal("140")}
CODES = list(FEES)
NPI = "1234567893"
PAYER = Party("PR", "EXAMPLE HEALTH PLAN", "XV", "60054", ("PO BOX 1000",), "HARTFORD", "CT", "061560000",
              references=(("2U", "60054"),),
              contacts=(Contact("BL", "PROVIDER SERVICES", (("TE", "8005550100"),)),))
PAYEE = Party("PE", "SUNRISE BEHAVIORAL HEALTH", "XX", NPI, ("100 MAIN ST",), "LOS ANGELES", "CA",
              "900120000", references=(("TJ", "123456789"),))


def _neg_line(ln: ServiceLine) -> ServiceLine:
    return ServiceLine(
        ln.procedure, -ln.charge, -ln.paid, ln.procedure_qualifier, ln.modifiers, units=-ln.units,
        dates=ln.dates, line_control_number=ln.line_control_number,
        adjustments=tuple(Adjustment(a.group, a.reason, -a.amount, a.quantity) for a in ln.adjustments),
        remarks=ln.remarks, amounts=tuple((q, -a) for q, a in ln.amounts))


def _reversal(c: ClaimPayment) -> ClaimPayment:
    """The reversal of a payment: CLP02 22 with every amount negated."""
    return ClaimPayment(
        c.claim_id, "22", -c.charge, -c.paid, -c.patient_responsibility, c.filing_indicator,
        c.payer_claim_number, c.facility_code, c.frequency_code, header_number=c.header_number,
        adjustments=tuple(Adjustment(a.group, a.reason, -a.amount, a.quantity) for a in c.adjustments),
        patient=c.patient, insured=c.insured, references=c.references, dates=c.dates,
        lines=tuple(_neg_line(ln) for ln in c.lines))


def _claim(rng: random.Random, i: int, day: date) -> ClaimPayment:
    denied = rng.random() < 0.08
    lines = []
    for j in range(rng.choice((1, 1, 1, 2, 2, 3))):
        code = rng.choice(CODES)
        units = Decimal(rng.choice((1, 1, 1, 2, 4))) if code == "H0004" else Decimal(1)
        charge = FEES[code] * units
        mods = rng.choice(((), (), ("95",), ("HO",), ("HO", "95")))
        dos = day - timedelta(days=rng.randint(10, 60))
        if denied:
            adj = (Adjustment("CO", "197", charge),)
            lines.append(ServiceLine(code, charge, Decimal("0.00"), "HC", mods, units=units,
                                     dates=(("472", dos),), line_control_number=f"L{i:07d}{j}",
                                     adjustments=adj, remarks=("N54",)))
            continue
        allowed = (charge * Decimal(rng.choice(("0.6", "0.7", "0.8", "0.85")))).quantize(CENT)
        adjs = [Adjustment("CO", "45", charge - allowed)]
        patient = Decimal("0.00")
        r = rng.random()
        if r < 0.3:
            patient = Decimal(rng.choice(("20", "30", "40")))
            adjs.append(Adjustment("PR", "3", patient))
        elif r < 0.45:
            ded = (allowed * Decimal("0.5")).quantize(CENT)
            coins = ((allowed - ded) * Decimal("0.2")).quantize(CENT)
            patient = ded + coins
            adjs += [Adjustment("PR", "1", ded), Adjustment("PR", "2", coins)]
        if r > 0.95:
            adjs.append(Adjustment("OA", "23", Decimal("5.00")))
        paid = charge - sum((a.amount for a in adjs), Decimal("0"))
        remarks = ("N381",) if rng.random() < 0.1 else ()
        lines.append(ServiceLine(code, charge, paid, "HC", mods, units=units, dates=(("472", dos),),
                                 line_control_number=f"L{i:07d}{j}", adjustments=tuple(adjs),
                                 remarks=remarks, amounts=(("B6", allowed),)))
    charge = sum((ln.charge for ln in lines), Decimal("0"))
    paid = sum((ln.paid for ln in lines), Decimal("0"))
    pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), Decimal("0"))
    status = "4" if denied else ("19" if rng.random() < 0.05 else "1")
    dates = [d for ln in lines for _, d in ln.dates]
    return ClaimPayment(
        f"C{i:07d}", status, charge, paid, pr, "12", f"PCN{i:010d}", "11", "1", header_number=1,
        patient=Name("QC", "1", f"PATIENT{i % 997}", "TEST", id_qualifier="MI", id=f"M{i:09d}"),
        other_names=(Name("82", "1", "CLINICIAN", "ALEX", id_qualifier="XX", id="1679576722"),),
        moa=("", "", "MA01") if len(lines) > 2 and rng.random() < 0.2 else (),
        dates=(("232", min(dates)), ("233", max(dates))), amounts=(("AU", charge),),
        lines=tuple(lines))


def _claims(rng: random.Random, n: int, day: date) -> Iterator[ClaimPayment]:
    i = 0
    while i < n:
        c = _claim(rng, i, day)
        if rng.random() < 0.03 and i + 2 <= n:
            yield _reversal(c)  # take back an earlier payment, then pay the claim again corrected
            yield _claim(rng, i, day)
            i += 2
        else:
            yield c
            i += 1


def generate(claims: int, seed: int, *, per_set: int = 10_000) -> Iterator[Remittance835]:
    """Balanced remittances with ``claims`` claims in all, at most ``per_set`` per transaction set."""
    rng = random.Random(seed)
    day = date(2026, 11, 20)
    gen = _claims(rng, claims, day)
    made = 0
    k = 0
    while made < claims:
        batch = []
        for c in gen:
            batch.append(c)
            if len(batch) >= per_set:
                break
        made += len(batch)
        k += 1
        plb = (
            ProviderAdjustment(NPI, date(2026, 12, 31), "WO", f"OVP{k:05d}", Decimal("12.50")),
            ProviderAdjustment(NPI, date(2026, 12, 31), "L6", "", Decimal("-1.37")),
            ProviderAdjustment(NPI, date(2026, 12, 31), "72", f"RET{k:05d}", Decimal("3.00")),
        )
        total = sum((c.paid for c in batch), Decimal("0")) - sum((p.amount for p in plb), Decimal("0"))
        payment = Payment(abs(total), "C" if total >= 0 else "D", "ACH", day, f"EFT{seed:04d}{k:06d}",
                          "1123456789", "I", "CCP", sender_dfi_qualifier="01", sender_dfi_id="999999999",
                          sender_account_qualifier="DA", sender_account="123456",
                          originator_company_id="1123456789", receiver_dfi_qualifier="01",
                          receiver_dfi_id="999988880", receiver_account_qualifier="DA",
                          receiver_account="98765")
        yield Remittance835(payment, PAYER, PAYEE, tuple(batch), plb, production_date=day)


def write_file(path: str | Path, claims: int, seed: int, *, per_set: int = 10_000) -> int:
    """Write the file; returns its size in bytes."""
    size = 0
    with open(path, "w", encoding="latin-1", newline="") as out:
        for k, rem in enumerate(generate(claims, seed, per_set=per_set), start=1):
            text = build_835(rem, envelope=EnvelopeSpec(isa_control=k, gs_control=k, created=datetime(2026, 11, 20, 8, 0),
                                                        sender="PAYERSENDER", receiver="SUNRISE01"))
            out.write(text)
            size += len(text)
    return size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("output")
    ap.add_argument("--claims", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-set", type=int, default=10_000)
    args = ap.parse_args(argv)
    size = write_file(args.output, args.claims, args.seed, per_set=args.per_set)
    print(f"{args.output}: {args.claims} claims, {size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
