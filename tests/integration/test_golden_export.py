"""Golden posting run: a generated run of 835s posted on SQLite and PostgreSQL equals tests/golden/posting_run.json.

The golden file was written by the posting code as it was before the set-based rewrite (issue 12),
so any change in what posting stores shows up here. The run (:func:`build_run`, deterministic):

* claims: the 240 claims of ``benchmarks/gen_835.py`` (seed 12) stored as AETNA claims (with
  ``contract_rates``, so underpaid items open, follow and close), most exactly as the 835 names them,
  some with extra zero padding (loose match), some longer than the CLP01 (a prefix the payer cut),
  one id stored twice loosely (ambiguous: unmatched), some missing or never sent (unmatched), some
  with other line control numbers (lines matched by procedure and charge), some with a line missing
  (an 835 line unmatched), one void (frequency 8), some rejected;
* file A: the generator's three transaction sets (paid, partial, PR 1/2/3, OA 23, CO 197 denials with
  LQ N54, MOA, crossovers CLP02 19, reversals with their corrections, PLB WO/L6/72), to which this
  module adds line-level denials (a paid claim with a line paid nothing, CO 50) and claim-level CAS;
* file B, a later remittance: reversals with corrections, reversals alone, reversals re-adjudicated
  as patient responsibility or denied, denied claims paid on appeal (their denials close), an
  unknown CLP01;
* file C: A's first set again in a new interchange (a duplicate remittance); file D: A's bytes again
  (a duplicate file); file E: a new remittance followed by a set addressed to another payee (the
  whole file fails, nothing of it is posted).

What is compared: ``claims export`` of every claim, the denial list (every state, without row ids,
sorted: the order in which one chunk's underpaid items are inserted is the database's),
unmatched payments, ClaimPayments, 835 status events, remittances and PLBs, ``paid_at`` and each
ingest's file state and counts. Only the keys the golden file has are compared (new keys are not a
difference). To write the golden file again (only when a change of posting behaviour is intended)::

    .venv/bin/python -m tests.integration.test_golden_export
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from benchmarks.gen_835 import PAYEE, PAYER, generate
from edi.x835 import Adjustment, ClaimPayment, EnvelopeSpec, Party, Remittance835, ServiceLine, build_835
from models import (
    Claim,
    ClaimLine,
    ClaimStatusEvent,
    Denial,
    Encounter,
    ProviderAdjustment,
    Remittance,
    make_engine,
)
from models import ClaimPayment as PaymentRow
from models import UnmatchedPayment as UnmatchedRow
from pipelines.cli.app import App
from pipelines.config import load_config
from pipelines.usecases import posting
from pipelines.usecases.claim_views import export_claims
from pipelines.usecases.denials import list_denials
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from pipelines.usecases.schema import upgrade
from tests.conftest import FIXTURES, ROOT

GOLDEN = ROOT / "tests" / "golden" / "posting_run.json"
N, SEED, PER_SET = 240, 12, 80
RATES = {"90837": "150.00", "90791": "210.00", "90834": "115.00", "99214": "130.00", "H0004": "22.00"}
D = Decimal
ZERO = D("0.00")
CREATED = datetime(2026, 11, 1, tzinfo=UTC)


# --- the run --------------------------------------------------------------------------------------------


def _index(claim_id: str) -> int:
    return int(claim_id[1:8])


def _deny_last_line(c: ClaimPayment) -> ClaimPayment:
    """A paid claim whose last line the payer paid nothing (CO 50, N115): a line-level denial."""
    last = c.lines[-1]
    denied = dataclasses.replace(last, paid=ZERO, adjustments=(Adjustment("CO", "50", last.charge),),
                                 remarks=("N115",), amounts=())
    lines = (*c.lines[:-1], denied)
    return _totals(c, lines)


def _totals(c: ClaimPayment, lines: tuple[ServiceLine, ...], claim_adj: tuple[Adjustment, ...] = ()) -> ClaimPayment:
    """``c`` with these lines and claim-level CAS, its CLP03/04/05 recomputed (balanced)."""
    charge = sum((ln.charge for ln in lines), ZERO)
    paid = sum((ln.paid for ln in lines), ZERO) - sum((a.amount for a in claim_adj), ZERO)
    pr = sum((a.amount for ln in lines for a in ln.adjustments if a.group == "PR"), ZERO)
    pr += sum((a.amount for a in claim_adj if a.group == "PR"), ZERO)
    return dataclasses.replace(c, charge=charge, paid=paid, patient_responsibility=pr, adjustments=claim_adj,
                               lines=lines)


def _file_a_claim(c: ClaimPayment) -> ClaimPayment:
    """The generator's claim, with the cases the generator lacks added to some of them."""
    i = _index(c.claim_id)
    if c.status_code == "22":
        return c
    if c.status_code == "1" and len(c.lines) >= 2 and i % 5 == 2:
        return _deny_last_line(c)
    if c.status_code == "1" and i % 9 == 4:  # sequestration at claim level
        return _totals(c, c.lines, (Adjustment("CO", "253", D("1.00")),))
    return c


def _negated(c: ClaimPayment) -> ClaimPayment:
    """The reversal (CLP02 22) of a posted claim: every amount negated."""
    def adj(items: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
        return tuple(dataclasses.replace(a, amount=-a.amount) for a in items)

    return dataclasses.replace(
        c, status_code="22", charge=-c.charge, paid=-c.paid, patient_responsibility=-c.patient_responsibility,
        adjustments=adj(c.adjustments),
        lines=tuple(dataclasses.replace(ln, charge=-ln.charge, paid=-ln.paid, units=-ln.units,
                                        adjustments=adj(ln.adjustments)) for ln in c.lines))


def _readjudicated(c: ClaimPayment, how: str) -> ClaimPayment:
    """``c`` adjudicated again: ``paid`` (70 % allowed, CO 45), ``corrected`` (5.00 less on the first
    line, CO 45), ``patient`` (allowed all PR 1, nothing paid) or ``denied`` (CO 197 on every line)."""
    lines = []
    adjs: tuple[Adjustment, ...]
    remarks: tuple[str, ...]
    for k, ln in enumerate(c.lines):
        allowed = (ln.charge * D("0.7")).quantize(D("0.01"))
        if how == "denied":
            adjs, paid, remarks = (Adjustment("CO", "197", ln.charge),), ZERO, ("N54",)
        elif how == "patient":
            adjs, paid, remarks = (Adjustment("CO", "45", ln.charge - allowed), Adjustment("PR", "1", allowed)), ZERO, ()
        elif how == "corrected" and k == 0 and ln.paid >= 5:
            adjs = tuple(dataclasses.replace(a, amount=a.amount + 5) if (a.group, a.reason) == ("CO", "45") else a
                         for a in ln.adjustments)
            paid, remarks = ln.paid - 5, ln.remarks
        elif how == "corrected":
            adjs, paid, remarks = ln.adjustments, ln.paid, ln.remarks
        else:
            adjs, paid, remarks = (Adjustment("CO", "45", ln.charge - allowed),), allowed, ()
        lines.append(dataclasses.replace(ln, paid=paid, adjustments=adjs, remarks=remarks,
                                         amounts=() if how in ("denied", "patient") else ln.amounts))
    status = {"denied": "4"}.get(how, "1")
    return dataclasses.replace(_totals(c, tuple(lines), c.adjustments if how == "corrected" else ()),
                               status_code=status, moa=())


def _remittance(base: Remittance835, claims: list[ClaimPayment], trace: str, *, payee: Party = PAYEE,
                plb: bool = False) -> Remittance835:
    adjustments = base.provider_adjustments if plb else ()
    total = sum((c.paid for c in claims), ZERO) - sum((p.amount for p in adjustments), ZERO)
    payment = dataclasses.replace(base.payment, amount=abs(total), credit_debit="C" if total >= 0 else "D",
                                  trace_number=trace)
    return Remittance835(payment, PAYER, payee, tuple(claims), adjustments, production_date=base.production_date)


def _x12(rems: list[Remittance835], first_isa: int) -> bytes:
    return "".join(build_835(r, envelope=EnvelopeSpec(isa_control=first_isa + k, gs_control=first_isa + k,
                                                      created=datetime(2026, 11, 20, 8, 0),
                                                      sender="PAYERSENDER", receiver="SUNRISE01"))
                   for k, r in enumerate(rems)).encode("latin-1")


@dataclasses.dataclass
class Run:
    """What the run stores first (one row per claim: id, status, frequency, its 835 lines, lcn prefix,
    how many lines) and the files it ingests in order."""

    claims: list[tuple[str, str, str, ClaimPayment, str, int]]
    files: list[tuple[str, bytes]]


def build_run() -> Run:
    """The stored claims and the 835 files of the golden run (see the module docstring)."""
    generated = list(generate(N, SEED, per_set=PER_SET))
    sets_a = [dataclasses.replace(r, claims=tuple(_file_a_claim(c) for c in r.claims)) for r in generated]
    sets_a = [_remittance(r, list(r.claims), r.payment.trace_number, plb=True) for r in sets_a]
    file_a = _x12(sets_a, 1)

    first: dict[str, ClaimPayment] = {}
    last_posted: dict[str, ClaimPayment] = {}
    for r in sets_a:
        for c in r.claims:
            first.setdefault(c.claim_id, c)
            if c.status_code != "22":
                last_posted[c.claim_id] = c

    claims: list[tuple[str, str, str, ClaimPayment, str, int]] = []
    for cid, c in first.items():
        i = _index(cid)
        if i % 41 == 5:
            continue  # never stored: unmatched
        status = "ready" if i % 41 == 6 else ("rejected" if i % 67 == 23 else ("accepted" if i % 2 else "submitted"))
        freq = "8" if i % 61 == 19 else "1"
        lcn = "X" if i % 47 == 13 else "L"
        n_lines = 1 if i % 43 == 17 and len(c.lines) > 1 else len(c.lines)
        if i % 53 == 7:
            stored = f"C00{i:07d}"  # extra padding: found loosely
        elif i % 59 == 11:
            stored = f"C{i:07d}X9"  # the payer cut our id short: found as a prefix
        elif i == 29:
            claims.append((f"C{i:06d}", status, freq, c, "A", n_lines))  # two loose hits: ambiguous
            stored, lcn = f"C{i:08d}", "B"
        else:
            stored = cid
        claims.append((stored, status, freq, c, lcn, n_lines))

    later: list[ClaimPayment] = []
    for cid, c in last_posted.items():
        i = _index(cid)
        if c.status_code == "1" and i % 11 == 1:
            later += [_negated(c), _readjudicated(c, "corrected")]
        elif c.status_code == "1" and i % 11 == 2:
            later.append(_negated(c))
        elif c.status_code == "1" and i % 11 == 3:
            later += [_negated(c), _readjudicated(c, "patient")]
        elif c.status_code == "1" and i % 11 == 4:
            later += [_negated(c), _readjudicated(c, "denied")]
        elif c.status_code == "4" and i % 2 == 0:
            later.append(_readjudicated(c, "paid"))  # paid on appeal: its denials close
    unknown = dataclasses.replace(_readjudicated(last_posted["C0000000"], "paid"), claim_id="ZZ000999",
                                  payer_claim_number="PCNZZ999")
    base = sets_a[0]
    file_b = _x12([_remittance(base, [*later, unknown], "EFTB00000001", plb=True)], 101)
    file_c = _x12(sets_a[:1], 201)
    other_payee = dataclasses.replace(PAYEE, id="9876543213")
    paid_e = [c for cid, c in last_posted.items() if c.status_code == "1" and _index(cid) % 11 == 5][:3]
    file_e = _x12([_remittance(base, [_negated(c) for c in paid_e], "EFTE00000001"),
                   _remittance(base, paid_e, "EFTE00000002", payee=other_payee)], 301)
    files = [("a.835", file_a), ("b.835", file_b), ("c.835", file_c), ("a-again.835", file_a), ("e.835", file_e)]
    return Run(claims, files)


def store_claims(app: App, run: Run) -> None:
    """One encounter, claim and lines per stored claim (bulk inserts, in the run's order)."""
    encounters = [{
        "encounter_id": f"E{stored}", "patient_id": f"P{stored}", "patient_last_name": "DOE",
        "patient_first_name": "PAT", "patient_dob": date(1980, 1, 1), "patient_sex": "F", "patient_address": "1 MAIN ST",
        "patient_city": "LOS ANGELES", "patient_state": "CA", "patient_zip": "90012", "payer_id": "AETNA",
        "member_id": "W123456789", "relationship": "self", "rendering_npi": "1679576722",
        "rendering_last_name": "RIVERA", "rendering_first_name": "ANA", "rendering_credential": "LCSW",
        "date_of_service": date(2026, 10, 1), "start_time": time(9, 0), "end_time": time(10, 0),
        "service": "individual_therapy", "modality": "in_person", "patient_location": "office",
        "diagnoses": ["F33.1"], "imported_at": CREATED} for stored, *_ in run.claims]
    lines: list[dict[str, Any]] = []
    with app.transaction() as s:
        s.execute(insert(Encounter), encounters)
        for stored, status, freq, c, lcn, n in run.claims:  # one by one: pks in the run's order on both databases
            pk = s.scalars(insert(Claim).returning(Claim.id), [{
                "claim_id": stored, "encounter_id": f"E{stored}", "patient_id": f"P{stored}", "payer_id": "AETNA",
                "status": status, "frequency_code": freq, "place_of_service": "11",
                "date_of_service": date(2026, 10, 1), "diagnoses": ["F33.1"], "hold_reasons": [], "warnings": [],
                "billed": sum((abs(ln.charge) for ln in c.lines[:n]), ZERO), "paid": ZERO,
                "patient_responsibility": ZERO, "submitted_at": CREATED, "created_at": CREATED,
                "updated_at": CREATED}]).one()
            lines += [{"claim_pk": pk, "line_number": j, "procedure": ln.procedure,
                       "line_control_number": f"{lcn}{(ln.line_control_number or '')[1:]}",
                       "modifiers": list(ln.modifiers), "units": max(1, int(abs(ln.units))),
                       "charge": abs(ln.charge), "diagnosis_pointers": [1], "paid": ZERO}
                      for j, ln in enumerate(c.lines[:n], 1)]
        s.execute(insert(ClaimLine), lines)


def rated_app(folder: Path, url: str) -> App:
    """An App over the sample config with AETNA's contract rates (:data:`RATES`), files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "var" / "mailbox").mkdir(parents=True, exist_ok=True)
    text = (FIXTURES / "edi.toml").read_text()
    anchor = 'id = "AETNA"\n'
    assert anchor in text
    table = ", ".join(f'"{code}" = {amount}' for code, amount in RATES.items())
    (folder / "edi.toml").write_text(text.replace(anchor, anchor + f"contract_rates = {{ {table} }}\n"))
    return App(load_config(folder / "edi.toml", env={"EDI_DATABASE_URL": url}))


# --- what is compared ------------------------------------------------------------------------------------


def _amount(value: Any) -> str | None:
    return None if value is None else f"{D(value):.2f}"


def _day(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def post_run(app: App, run: Run) -> dict[str, Any]:
    """Store the claims, ingest the files in order; returns what the golden file holds."""
    store_claims(app, run)
    files = []
    for name, data in run.files:
        result = IngestResult()
        f = ingest_bytes(app.config, app.uow, name, data, result)
        files.append({"name": name, "state": f.state, "duplicate": bool(result.duplicates),
                      "counts": dict(sorted(result.counts.items()))})
    return {"files": files, **snapshot(app)}


def snapshot(app: App) -> dict[str, Any]:
    """Everything posting wrote that an operator can see, without row ids and timestamps."""
    denials = [{k: v for k, v in d.items() if k != "id"} for d in list_denials(app.uow, "all")]
    with app.transaction() as s:
        notes = list(s.scalars(select(Denial.note).order_by(Denial.id)))
        for d, note in zip(denials, notes, strict=True):
            d["note"] = note
        claim_ids = {pk: cid for pk, cid in s.execute(select(Claim.id, Claim.claim_id))}
        traces = {pk: trace for pk, trace in s.execute(select(Remittance.id, Remittance.trace_number))}
        paid_at = [{"claim_id": cid, "paid_at": _day(at)}
                   for cid, at in s.execute(select(Claim.claim_id, Claim.paid_at).order_by(Claim.id))]
        payments = [{"claim_id": claim_ids[p.claim_pk], "trace": traces[p.remittance_id], "status_code": p.status_code,
                     "charge": _amount(p.charge), "paid": _amount(p.paid),
                     "patient_responsibility": _amount(p.patient_responsibility),
                     "payer_claim_number": p.payer_claim_number}
                    for p in s.scalars(select(PaymentRow).order_by(PaymentRow.id))]
        events = [{"claim_id": claim_ids[e.claim_pk], "code": e.code, "status_date": _day(e.status_date),
                   "description": e.description, "payer_claim_number": e.payer_claim_number, "trace": e.trace}
                  for e in s.scalars(select(ClaimStatusEvent).where(ClaimStatusEvent.source == "835")
                                     .order_by(ClaimStatusEvent.id))]
        unmatched = [{"trace": traces[u.remittance_id], "claim_id": u.claim_id, "status_code": u.status_code,
                      "charge": _amount(u.charge), "paid": _amount(u.paid),
                      "payer_claim_number": u.payer_claim_number, "detail": u.detail, "resolved": u.resolved}
                     for u in s.scalars(select(UnmatchedRow).order_by(UnmatchedRow.id))]
        remittances = [{"st_control": r.st_control, "payer_key": r.payer_key, "payer_name": r.payer_name,
                        "trace_number": r.trace_number, "amount": _amount(r.amount), "method": r.method,
                        "payment_date": _day(r.payment_date), "balanced": r.balanced, "forced": r.forced,
                        "balance_errors": list(r.balance_errors or [])}
                       for r in s.scalars(select(Remittance).order_by(Remittance.id))]
        plb = [{"trace": traces[p.remittance_id], "provider_id": p.provider_id, "fiscal_date": _day(p.fiscal_date),
                "reason": p.reason, "reference": p.reference, "amount": _amount(p.amount)}
               for p in s.scalars(select(ProviderAdjustment).order_by(ProviderAdjustment.id))]
    # the order of underpaid items opened by one chunk is the database's (no ORDER BY): compared sorted
    denials.sort(key=lambda d: json.dumps(d, sort_keys=True))
    return {"claims": export_claims(app.uow), "denials": denials, "unmatched_payments": unmatched,
            "claim_payments": payments, "status_events": events, "paid_at": paid_at, "remittances": remittances,
            "provider_adjustments": plb}


def differences(golden: Any, actual: Any, path: str = "") -> Iterator[str]:
    """Where ``actual`` differs from ``golden``: every key of a golden dict must be there and equal
    (keys only ``actual`` has are not a difference); lists must have the same length and items."""
    if isinstance(golden, dict):
        if not isinstance(actual, dict):
            yield f"{path}: expected an object, got {actual!r}"
            return
        for key, value in golden.items():
            if key not in actual:
                yield f"{path}.{key}: missing"
            else:
                yield from differences(value, actual[key], f"{path}.{key}")
    elif isinstance(golden, list):
        if not isinstance(actual, list) or len(actual) != len(golden):
            n = len(actual) if isinstance(actual, list) else actual
            yield f"{path}: expected a list of {len(golden)}, got {n}"
            return
        for k, (g, a) in enumerate(zip(golden, actual, strict=True)):
            yield from differences(g, a, f"{path}[{k}]")
    elif golden != actual:
        yield f"{path}: expected {golden!r}, got {actual!r}"


def dump(data: dict[str, Any]) -> str:
    """The golden file's text: one JSON object per section item per line (readable, diffable)."""
    parts = []
    for key, items in data.items():
        body = ",\n".join("  " + json.dumps(item, sort_keys=True) for item in items)
        parts.append(f' "{key}": [\n{body}\n ]')
    return "{\n" + ",\n".join(parts) + "\n}\n"


# --- the test ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run() -> Run:
    return build_run()


def test_run_covers_every_case(run: Run) -> None:
    """The golden file holds every case the module docstring lists (so the comparison means something)."""
    golden = json.loads(GOLDEN.read_text())
    statuses = {c["status"] for c in golden["claims"]}
    assert {"paid", "denied", "patient_responsibility", "reversed", "void", "ready"} <= statuses
    codes = {p["status_code"] for p in golden["claim_payments"]}
    assert {"1", "4", "19", "22"} <= codes
    denials = golden["denials"]
    assert {d["state"] for d in denials} >= {"open", "closed"}
    assert {d["category"] for d in denials} >= {"authorization", "underpaid"}
    assert any(d["reason"] == "50" and d["line_control_number"] for d in denials)  # a line-level denial
    assert any(d["note"] and d["note"].startswith("amount short recomputed") for d in denials)
    assert {u["claim_id"] for u in golden["unmatched_payments"]} >= {"C0000005", "C0000006", "C0000029", "ZZ000999"}
    counts = [f["counts"] for f in golden["files"]]
    assert counts[0]["lines_unmatched"] > 0 and counts[0]["provider_adjustments"] == 9
    assert counts[2]["duplicate_remittances"] == 1 and golden["files"][3]["duplicate"]
    assert golden["files"][4]["state"] == "failed"
    status = {c["claim_id"]: c["status"] for c in golden["claims"]}
    assert status["C000000007"] == status["C0000011X9"] == "paid"  # found loosely; found as a prefix
    assert status["C000029"] == status["C00000029"] == "accepted"  # two loose hits: neither is posted
    assert len(golden["claims"]) == len(run.claims) < 300


@pytest.mark.parametrize("chunk", [posting.CHUNK, 7], ids=["chunks-as-shipped", "chunks-of-7"])
def test_posting_matches_the_golden_file(tmp_path: Path, db_url: str, run: Run, chunk: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same run posted now gives the golden file's claims, denials, payments and events, also when
    every remittance is posted seven claims at a time (a reversal and its correction, a claim paid
    twice, land in different chunks, read ahead by the reader thread). Every reference the posting
    writes without a foreign key names its parent."""
    monkeypatch.setattr(posting, "CHUNK", chunk)
    app = rated_app(tmp_path / "practice", db_url)
    try:
        actual = post_run(app, run)
        assert dangling(app) == dict.fromkeys(_DANGLING, 0)
    finally:
        app.close()
    golden = json.loads(GOLDEN.read_text())
    found = list(differences(golden, json.loads(json.dumps(actual))))
    assert not found, f"{len(found)} differences from {GOLDEN.name}, first ones:\n" + "\n".join(found[:25])


# References the posting writes without a foreign key (migrations 0004, 0005): each query counts the
# rows whose parent is missing, or is another claim's.
_DANGLING = {
    "payment without its remittance": "SELECT count(*) FROM claim_payments p "
                                      "WHERE NOT EXISTS (SELECT 1 FROM remittances r WHERE r.id = p.remittance_id)",
    **{f"{kind} without its payment or claim": f"SELECT count(*) FROM {kind} a WHERE NOT EXISTS (SELECT 1 FROM "
       "claim_payments p WHERE p.id = a.claim_payment_id AND p.claim_pk = a.claim_pk)" for kind in ("adjustments", "remarks")},
    **{f"{kind} on a line of another claim": f"SELECT count(*) FROM {kind} a WHERE a.line_pk IS NOT NULL AND NOT EXISTS "
       "(SELECT 1 FROM claim_lines l WHERE l.id = a.line_pk AND l.claim_pk = a.claim_pk)" for kind in ("adjustments", "remarks")},
    "status event without its file": "SELECT count(*) FROM claim_status_events e WHERE e.file_id IS NOT NULL "
                                     "AND NOT EXISTS (SELECT 1 FROM files f WHERE f.id = e.file_id)",
}


def dangling(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return {name: conn.execute(text(sql)).scalar_one() for name, sql in _DANGLING.items()}


def main() -> int:
    """Write the golden file from the code as it is now, on SQLite."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "golden.db"
        url = f"sqlite:///{db}"
        eng = make_engine(url)
        upgrade(eng)
        eng.dispose()
        app = rated_app(Path(tmp) / "practice", url)
        try:
            data = post_run(app, build_run())
        finally:
            app.close()
        shutil.rmtree(Path(tmp) / "practice", ignore_errors=True)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(dump(json.loads(json.dumps(data))))
    print(f"{GOLDEN}: {len(data['claims'])} claims, {len(data['denials'])} denials")
    return 0


if __name__ == "__main__":
    sys.exit(main())
