"""277CA, 277, 271 and 999 applied to thousands of claims at once, on SQLite and PostgreSQL.

The appliers read and write in bulk; these files mix every case (accepted, rejected, informational,
claims already final or unsent, line-level statuses, claims named twice, ids in another case,
unknown ids) and every row written is compared, field by field, with what the lifecycle and
remittance rules say one claim at a time, in file order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from structlog.testing import capture_logs

from edi.x271 import Benefit, EligibilityResponse, Member, Party, Rejection, Trace, build_271
from edi.x277 import (
    ClaimStatus,
    ClaimStatusReport,
    LineStatus,
    Person,
    ProviderStatus,
    Status,
    build_277,
    build_277ca,
)
from edi.x277 import Party as Party277
from edi.x999 import GroupAck, SegmentError, TransactionAck, build_999
from models import Claim, ClaimStatusEvent, Eligibility, Encounter, File, Inquiry
from pipelines.cli.app import App
from pipelines.rules.lifecycle import AWAITING_ANSWER, FINAL, Event, sources, transition
from pipelines.rules.remittance import acknowledgment_event, claim_key, clip_reason, explains_status
from pipelines.usecases.acks import _transaction_errors
from pipelines.usecases.eligibility_responses import benefit_summaries
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from pipelines.usecases.ledger import record_outbound
from tests.integration.test_responses import CH, US, inbound_isa

STATUSES = ["submitted", "accepted", "rejected", "submitted", "accepted", "paid", "denied", "patient_responsibility",
            "void", "reversed", "ready", "crossed_over"]
BEFORE = datetime(2026, 10, 1, 8, tzinfo=UTC)
PHI = ("DOE", "JANE", "W1")  # the patient every reported claim names


def _claims_sent(app: App, n: int, *, sets: int = 1, first: int = 100000) -> tuple[File, list[str]]:
    """An 837P file of ``n`` claims spread over ``sets`` transaction sets, in every status, some with a payer
    claim number, an acceptance date or a reason already; returns the file and the claim ids."""
    ids = [f"C{first + i}" for i in range(n)]
    sts = [f"{k + 1:04d}" for k in range(sets)]
    with app.transaction() as s:
        f = record_outbound(s, name=f"837-{first}.x12", data=f"ISA{first}".encode(), kind="837P",
                            archive_dir=app.config.archive_dir, sender=US, receiver=CH, isa_control=first % 10**9,
                            gs_control=first % 10**9, st_controls=[("837", st) for st in sts])
        s.add_all(Encounter(
            encounter_id=f"E-{cid}", patient_id=f"P-{cid}", patient_last_name="DOE", patient_first_name="JANE",
            patient_dob=date(1985, 3, 14), patient_sex="F", patient_address="1 MAIN ST", patient_city="LOS ANGELES",
            patient_state="CA", patient_zip="90012", payer_id="AETNA", member_id="W123456789", relationship="self",
            rendering_npi="1987654328", rendering_last_name="RIVERA", rendering_first_name="ANA",
            rendering_credential="LCSW", date_of_service=date(2026, 10, 28), start_time=datetime(2026, 1, 1, 9).time(),
            end_time=datetime(2026, 1, 1, 10).time(), service="individual_therapy", modality="in_person",
            patient_location="office", diagnoses=["F33.1"]) for cid in ids)
        s.flush()
        s.add_all(Claim(
            claim_id=cid, encounter_id=f"E-{cid}", patient_id=f"P-{cid}", payer_id="AETNA",
            status=STATUSES[i % len(STATUSES)], place_of_service="11", date_of_service=date(2026, 10, 28),
            diagnoses=["F33.1"], billed=Decimal("180.00"), file_id=f.id, st_control=sts[i % sets],
            payer_claim_number=f"OLD{i}" if i % 5 == 0 else None, accepted_at=BEFORE if i % 7 == 0 else None,
            status_reason="earlier reason" if i % 3 == 0 else None, updated_at=BEFORE) for i, cid in enumerate(ids))
    return f, ids


@dataclass
class _Claim:
    """What a claim should be after the file, worked out one reported claim at a time."""

    pk: int
    status: str
    status_reason: str | None
    payer_claim_number: str | None
    accepted_at: datetime | None
    updated_at: datetime
    changed: bool = False  # updated (``updated_at`` moves)
    flushed: tuple[Any, ...] = ()

    def values(self) -> tuple[Any, ...]:
        return self.status, self.status_reason, self.payer_claim_number, self.accepted_at

    def set(self, **values: Any) -> None:
        for k, v in values.items():
            setattr(self, k, v)

    def flush(self) -> None:
        """As the session's autoflush of the claim would: an update when its values differ from the last
        ones written (changed back and forth between two flushes is no change)."""
        if self.values() != (self.flushed or self.values()):
            self.changed = True
        self.flushed = self.values()


def _flush(claims: dict[str, _Claim]) -> None:
    for c in claims.values():
        c.flush()


def _stored(app: App) -> dict[str, _Claim]:
    with app.transaction() as s:
        out = {c.claim_id: _Claim(c.id, c.status, c.status_reason, c.payer_claim_number, c.accepted_at, c.updated_at)
               for c in s.scalars(select(Claim))}
    _flush(out)
    return out


def _events(app: App) -> list[tuple[Any, ...]]:
    with app.transaction() as s:
        return [tuple(r) for r in s.execute(
            select(ClaimStatusEvent.claim_pk, ClaimStatusEvent.file_id, ClaimStatusEvent.source,
                   ClaimStatusEvent.category, ClaimStatusEvent.code, ClaimStatusEvent.entity,
                   ClaimStatusEvent.status_date, ClaimStatusEvent.description, ClaimStatusEvent.payer_claim_number,
                   ClaimStatusEvent.trace).order_by(ClaimStatusEvent.id))]


def _words(s: Status) -> str:
    text = f"{s.category} {s.category_description}: {s.code} {s.code_description}"
    if s.entity:
        text += f" (entity {s.entity})"
    return text + (f" - {s.message}" if s.message else "")


def _all_words(c: ClaimStatus) -> list[tuple[Status, str]]:
    out = [(s, _words(s)) for s in c.statuses]
    for ln in c.lines:
        out += [(s, f"line {ln.line_control_number or ln.procedure}: {_words(s)}") for s in ln.statuses]
    return out


def _compare_claims(app: App, expected: dict[str, _Claim], run_started: datetime) -> None:
    got = _stored(app)
    assert got.keys() == expected.keys()
    for cid, want in expected.items():
        have = got[cid]
        assert (cid, have.status, have.status_reason, have.payer_claim_number) == (
            cid, want.status, want.status_reason, want.payer_claim_number)
        if want.accepted_at is None or want.accepted_at is not run_started:
            assert have.accepted_at == want.accepted_at, cid
        else:
            assert have.accepted_at is not None and have.accepted_at >= run_started, cid
        if want.changed:
            assert have.updated_at >= run_started, cid
        else:
            assert have.updated_at == want.updated_at, cid  # a claim the file did not change is not updated


def _no_phi(logs: Sequence[Mapping[str, Any]]) -> None:
    for entry in logs:
        text = repr(entry)
        assert not any(word in text for word in PHI), entry


# ----------------------------------------------------------------------------------------------------------------
# 277CA
# ----------------------------------------------------------------------------------------------------------------

ACCEPTS = [Status("A1", "19", "PR", date(2026, 11, 3), "WQ"), Status("A2", "20", "PR", date(2026, 11, 3), "WQ"),
           Status("A5", "20", None, date(2026, 11, 3), "WQ")]
REJECTS = [Status("A7", "164", "IL", date(2026, 11, 3), "U"), Status("A3", "21", None, date(2026, 11, 4), "U"),
           Status("A6", "35", "85", None, "U", message="MISSING NPI " + "X" * 40)]
INFOS = [Status("A0", "16", None, date(2026, 11, 3)), Status("P1", "20", "PR", date(2026, 11, 2))]


def _reported(rng: random.Random, claim_id: str, n: int) -> ClaimStatus:
    """A reported claim: accepted, rejected or informational, sometimes with lines, a payer claim number,
    the id in another case and padded."""
    kind = rng.choice(["accept", "accept", "reject", "info"])
    pool = {"accept": ACCEPTS, "reject": REJECTS, "info": INFOS}[kind]
    statuses = tuple(rng.sample(pool, rng.randint(1, 2)))
    if kind == "accept" and rng.random() < 0.2:
        statuses += (INFOS[0],)
    lines: tuple[LineStatus, ...] = ()
    if rng.random() < 0.3:
        lines = tuple(LineStatus("90837", Decimal("180"), (rng.choice(REJECTS + INFOS),),
                                 line_control_number=rng.choice([None, f"L{n}-{k}"]))
                      for k in range(rng.randint(1, 3)))
    if rng.random() < 0.02:  # a reason longer than the column keeps
        statuses += tuple(Status("A7", "164", None, date(2026, 11, 3), "U", message="Y" * 200) for _ in range(12))
    shown = claim_id if rng.random() < 0.8 else f" {claim_id.lower()} "
    return ClaimStatus(trace_number=shown, statuses=statuses, patient=Person("DOE", "JANE", "W1"),
                       payer_claim_number=rng.choice([None, f"PCN{n}"]), clearinghouse_trace=f"CH-{n}",
                       service_date=date(2026, 10, 28), lines=lines)


def _report(claims: list[ClaimStatus], reference: str) -> ClaimStatusReport:
    ok = Status("A1", "19", "PR", date(2026, 11, 3), "WQ", Decimal("180"))
    return ClaimStatusReport(
        source=Party277("EXAMPLE CLEARINGHOUSE", CH, "46"), receiver=Party277("SUNRISE", US, "46"),
        providers=(ProviderStatus(Party277("SUNRISE", "1234567893", "XX"), tuple(claims), "0", (ok,)),),
        created=date(2026, 11, 3), reference=reference, source_trace="T1", receipt_date=date(2026, 11, 2),
        process_date=date(2026, 11, 3), receiver_trace="B1", receiver_statuses=(ok,))


class TestBulk277CA:
    def test_thousands_of_claims_match_the_rules_one_by_one(self, app: App) -> None:
        """A 277CA of two sets naming 3,000 claims (60 twice in a set, 500 again in the other, 40 unknown) leaves
        each claim and event as the lifecycle applied one reported claim at a time, in file order, says."""
        f, ids = _claims_sent(app, 3000)
        rng = random.Random(277)
        first = [_reported(rng, cid, n) for n, cid in enumerate(ids)]
        first += [_reported(rng, f"C9{n:05d}", 90000 + n) for n in range(20)]
        first += [_reported(rng, cid, 8000 + n) for n, cid in enumerate(rng.sample(ids, 60))]  # twice in one set
        rng.shuffle(first)
        second = [_reported(rng, cid, 5000 + n) for n, cid in enumerate(rng.sample(ids, 500))]
        second += [_reported(rng, f"X{n:05d}", 95000 + n) for n in range(20)]
        text = build_277ca([_report(first, "R1"), _report(second, "R2")], envelope=inbound_isa(gs=5))

        expected = _stored(app)
        pk_of = {cid: c.pk for cid, c in expected.items()}
        started = datetime.now(UTC)
        events: list[tuple[Any, ...]] = []
        counts = {"claims_accepted": 0, "claims_rejected": 0, "claims_unchanged": 0, "claims_unmatched": 0,
                  "status_events": 0}
        unmatched: list[str] = []
        rejected_ids: list[int] = []
        for c in [*first, None, *second, None]:
            if c is None:  # the end of a transaction set (the old code's autoflush at the next set's query)
                _flush(expected)
                continue
            cid = claim_key(c.claim_id)
            if cid not in expected:
                unmatched.append(c.claim_id.strip())  # the reader trims elements
                counts["claims_unmatched"] += 1
                continue
            want = expected[cid]
            words = _all_words(c)
            events += [(want.pk, None, "277CA", s.category, s.code, s.entity, s.date, clip_reason(w),
                        c.payer_claim_number, c.clearinghouse_trace) for s, w in words]
            counts["status_events"] += len(words)
            if c.payer_claim_number and want.status not in FINAL:
                want.set(payer_claim_number=c.payer_claim_number)
            event = acknowledgment_event(rejected=c.rejected, categories=[s.category for s in c.statuses])
            if event is None or want.status not in sources(event):
                counts["claims_unchanged"] += 1
                continue
            want.set(status=transition(want.status, event).value)
            if event is Event.ACK_REJECTED:
                want.set(status_reason=clip_reason("277CA rejected: " + "; ".join(w for _, w in words)))
                counts["claims_rejected"] += 1
                rejected_ids.append(want.pk)
            else:
                want.set(status_reason=None, accepted_at=want.accepted_at or started)
                counts["claims_accepted"] += 1
        assert counts["claims_rejected"] > 300 and counts["claims_accepted"] > 500 and counts["claims_unchanged"] > 300

        result = IngestResult()
        with capture_logs() as logs:
            inbound = ingest_bytes(app.config, app.uow, "277ca.x12", text.encode("latin-1"), result)
        assert inbound.state == "processed", inbound.error
        assert {k: result.counts[k] for k in counts} == counts
        _compare_claims(app, expected, started)
        assert _events(app) == [(e[0], inbound.id, *e[2:]) for e in events]
        by_pk = {c.pk: cid for cid, c in expected.items()}
        assert [e["claim_id"] for e in logs if e["event"] == "claim_rejected"] == [by_pk[pk] for pk in rejected_ids]
        assert [e["claim_id"] for e in logs if e["event"] == "claim_status_unmatched"] == unmatched
        _no_phi(logs)
        assert len(pk_of) == 3000

    def test_replay_of_the_same_content_changes_nothing_more(self, app: App) -> None:
        """The same 277CA received twice is recorded once: no second set of events, no status moves."""
        _, ids = _claims_sent(app, 300)
        rng = random.Random(5)
        text = build_277ca([_report([_reported(rng, cid, n) for n, cid in enumerate(ids)], "R1")],
                           envelope=inbound_isa(gs=5))
        assert ingest_bytes(app.config, app.uow, "a.x12", text.encode("latin-1"), IngestResult()).state == "processed"
        claims, events = _stored(app), _events(app)
        result = IngestResult()
        ingest_bytes(app.config, app.uow, "b.x12", text.encode("latin-1"), result)
        assert len(result.duplicates) == 1
        assert _stored(app) == claims and _events(app) == events


# ----------------------------------------------------------------------------------------------------------------
# 277
# ----------------------------------------------------------------------------------------------------------------


class TestBulk277:
    def test_matched_by_id_or_276_trace_reason_and_number_as_the_rules_say(self, app: App) -> None:
        """A 277 naming 1,500 claims by REF*EJ or only by our 276 trace (some unknown) records every status,
        explains rejections and denials, keeps a payer claim number already there, answers the 276s."""
        _, ids = _claims_sent(app, 1500, first=200000)
        pk_of = {c: v.pk for c, v in _stored(app).items()}
        with app.transaction() as s:
            s.add_all(Inquiry(kind="276", trace=f"S{n:07d}", patient_id=f"P-{cid}", payer_id="AETNA",
                              claim_pk=pk_of[cid]) for n, cid in enumerate(ids) if n % 4 != 3)
        rng = random.Random(12)
        statuses = [Status("F2", "88", None, date(2026, 12, 1)), Status("P1", "20", "PR", date(2026, 12, 1)),
                    Status("A7", "164", "IL", date(2026, 12, 1)), Status("F1", "65", None, date(2026, 12, 1))]
        reported: list[ClaimStatus] = []
        for n in [*(n for n in range(len(ids)) if n % 10 != 6), *rng.sample(range(len(ids)), 200)]:
            cid = ids[n]
            traced = n % 2 == 0 and n % 4 != 3
            lines = (LineStatus("90837", Decimal("180"), (rng.choice(statuses),), line_control_number=f"L{n}",
                                service_date=date(2026, 10, 28)),) \
                if rng.random() < 0.3 else ()
            reported.append(ClaimStatus(
                trace_number=f"S{n:07d}" if traced else f"T{n}", statuses=(rng.choice(statuses),),
                patient=Person("DOE", "JANE", "W1"), patient_control_number=None if traced else cid.lower(),
                payer_claim_number=rng.choice([None, f"N{n}"]), service_date=date(2026, 10, 28), lines=lines))
        reported += [ClaimStatus(trace_number=f"S{9000000 + n}", statuses=(statuses[0],),
                                 patient=Person("DOE", "JANE", "W1")) for n in range(15)]
        rng.shuffle(reported)
        report = ClaimStatusReport(source=Party277("AETNA", "60054"), receiver=Party277("SUNRISE", US, "46"),
                                   providers=(ProviderStatus(Party277("SUNRISE", "1234567893", "XX"),
                                                             tuple(reported[:900])),
                                              ProviderStatus(Party277("SUNRISE", "1234567893", "XX"),
                                                             tuple(reported[900:]))),
                                   created=date(2026, 12, 2))
        text = build_277([report], envelope=inbound_isa("60054", gs=8))

        expected = _stored(app)
        by_trace = {f"S{n:07d}": cid for n, cid in enumerate(ids) if n % 4 != 3}
        started = datetime.now(UTC)
        events: list[tuple[Any, ...]] = []
        matched: set[str] = set()
        unmatched: list[str] = []
        for c in reported:
            hit = claim_key(c.claim_id) if claim_key(c.claim_id) in expected else by_trace.get(c.trace_number)
            if hit is None:
                unmatched.append(c.claim_id)
                continue
            matched.add(hit)
            want = expected[hit]
            words = _all_words(c)
            events += [(want.pk, None, "277", s.category, s.code, s.entity, s.date, clip_reason(w), c.payer_claim_number,
                        None) for s, w in words]
            if c.payer_claim_number and not want.payer_claim_number:
                want.set(payer_claim_number=c.payer_claim_number)
            if explains_status(want.status, rejected=c.rejected, categories=[s.category for s in c.statuses]):
                want.set(status_reason=clip_reason("277: " + "; ".join(w for _, w in words)))
            want.flush()  # each claim's 276s are looked up: the claim named before is flushed

        result = IngestResult()
        with capture_logs() as logs:
            inbound = ingest_bytes(app.config, app.uow, "277.x12", text.encode("latin-1"), result)
        assert inbound.state == "processed", inbound.error
        assert (result.counts["claims_matched"], result.counts["claims_unmatched"]) == (
            len(reported) - len(unmatched), len(unmatched))
        assert result.counts["status_events"] == len(events)
        _compare_claims(app, expected, started)
        assert _events(app) == [(e[0], inbound.id, *e[2:]) for e in events]
        with app.transaction() as s:
            answered = {q.trace: q.answered_at for q in s.scalars(select(Inquiry))}
        for trace, cid in by_trace.items():
            assert (answered[trace] is not None) == (cid in matched), trace
        assert [e["claim_id"] for e in logs if e["event"] == "claim_status_unmatched"] == unmatched
        _no_phi(logs)


# ----------------------------------------------------------------------------------------------------------------
# 999
# ----------------------------------------------------------------------------------------------------------------


class TestBulk999:
    def test_rejected_sets_reject_their_claims_with_their_own_errors(self, app: App) -> None:
        """A 999 file of two acknowledgments of one 837 of 40 sets (2,000 claims): the rejected sets' claims
        get an event each and, when still awaiting an answer, the first rejection and its reason."""
        f, ids = _claims_sent(app, 2000, sets=40, first=300000)
        expected = _stored(app)
        with app.transaction() as s:
            st_of = {cid: st for cid, st in s.execute(select(Claim.claim_id, Claim.st_control))}
        rng = random.Random(999)
        sts = [f"{k + 1:04d}" for k in range(40)]
        codes = {st: rng.choice(["A", "E", "R", "R"]) for st in sts}

        def errors_of(st: str) -> tuple[SegmentError, ...]:
            named = [cid for cid in ids if st_of[cid] == st][:: rng.randint(3, 9)]
            return tuple(SegmentError("CLM", 20 + k, "2300", "8", (), ("CLM01", cid.lower() if k % 2 else cid))
                         for k, cid in enumerate(named)) + (SegmentError("NM1", 5, "2010", "3"),)

        first = GroupAck.of("HC", str(f.gs_control), "005010X222A1", [
            TransactionAck("837", st, code, error_codes=("I5",) if code == "R" else (),
                           segment_errors=errors_of(st) if code == "R" and k % 3 else ())
            for k, (st, code) in enumerate(codes.items())])
        again = GroupAck.of("HC", str(f.gs_control), "005010X222A1", [
            TransactionAck("837", st, "R", segment_errors=errors_of(st)) for st in sts[:6]])
        text = build_999([first, again], envelope=inbound_isa(gs=9))

        result = IngestResult()
        started = datetime.now(UTC)
        inbound = ingest_bytes(app.config, app.uow, "999.x12", text.encode("latin-1"), result)
        assert inbound.state == "processed", inbound.error
        events: list[tuple[Any, ...]] = []
        rejected = 0
        for ack in (first, again):
            for t in ack.transactions:
                if t.accepted:
                    continue
                errors = _transaction_errors(t)  # the errors in words, as the 999 applier states them
                label = f"999 rejected transaction set {t.control_number} of file {f.id}"
                for cid in sorted((c for c in ids if st_of[c] == t.control_number), key=lambda c: expected[c].pk):
                    own = [e for e in errors if e.get("claim_id") and claim_key(e["claim_id"]) == cid]
                    texts = [e["text"] for e in (own or [e for e in errors if not e.get("claim_id")] or errors)]
                    reason = clip_reason(f"{label}: " + (" ".join(texts) if texts else "rejected, no error detail given."))
                    want = expected[cid]
                    events.append((want.pk, inbound.id, "999", "R", own[0]["code"] if own else None, None, None, reason,
                                   None, None))
                    if want.status in AWAITING_ANSWER:
                        want.set(status=transition(want.status, Event.ACK_REJECTED).value, status_reason=reason)
                        want.flush()
                        rejected += 1
        assert rejected > 300
        assert result.counts["claims_rejected"] == rejected
        _compare_claims(app, expected, started)
        assert _events(app) == events


# ----------------------------------------------------------------------------------------------------------------
# 271
# ----------------------------------------------------------------------------------------------------------------


class TestBulk271:
    def test_many_members_and_a_whole_request_rejection(self, app: App) -> None:
        """A 271 of 1,500 members (some twice, some in another case, some unknown) and a set rejecting our
        whole 270: one Eligibility row per answer, in order, as the benefit rules summarize it; each inquiry
        answered once whatever set answered it."""
        with app.transaction() as s:
            f = File(name="270.x12", direction="out", kind="270", sha256="1" * 64, size=1, state="sent",
                     sender_id=app.config.clearinghouse.submitter_id, isa_control="000000777")
            s.add(f)
            s.flush()
            s.add_all(Inquiry(kind="270", trace=f"E{n:07d}", patient_id=f"P-{n}", payer_id="AETNA" if n % 3 else "BCBS",
                              file_id=f.id if n % 10 == 0 else None) for n in range(2000))
        rng = random.Random(271)
        benefit_sets = [(Benefit("1", service_types=("30", "MH")), Benefit("B", service_types=("MH",),
                                                                             amount=Decimal("25"))),
                        (Benefit("6", service_types=("30",)),), (),
                        (Benefit("1", service_types=("30",)), Benefit("F", service_types=("MH",), quantity_qualifier="VS",
                                                                      quantity=Decimal("20"), time_period="29"))]
        members = []
        for n in [*range(1500), *rng.sample(range(1500), 100), *range(7000000, 7000010)]:
            trace = f"E{n:07d}" if rng.random() < 0.8 else f" e{n:07d} "
            benefits = rng.choice(benefit_sets)
            rejections = (Rejection("72", "C", "2100C"),) if not benefits else ()
            members.append(Member(level="subscriber", last_name="DOE", first_name="JANE", member_id="W1",
                                  id_qualifier="MI", traces=(Trace("2", trace, "1123456789"),), benefits=benefits,
                                  rejections=rejections))
        rng.shuffle(members)
        sets = [EligibilityResponse(source=Party("AETNA", "60054", "PI"),
                                    receiver=Party("SUNRISE", "1234567893", "XX", entity="1P"),
                                    members=tuple(members[k:k + 700]), created=date(2026, 11, 20), reference="X")
                for k in range(0, len(members), 700)]
        whole = EligibilityResponse(source=Party("AETNA", "60054", "PI"), receiver=None, members=(),
                                    created=date(2026, 11, 20), reference="ELIG-000000777",
                                    rejections=(Rejection("42", "R", "2000A"),))
        text = build_271([*sets, whole], envelope=inbound_isa("60054", gs=3))

        with app.transaction() as s:
            inquiry = {q.trace: q for q in s.scalars(select(Inquiry))}
            aetna_ids = {p.id for p in app.config.payers.values() if p.payer_id == "60054"}
        rows: list[tuple[Any, ...]] = []
        answered: set[str] = set()
        unmatched: list[str] = []
        for r in sets:
            for m in r.members:
                trace = (m.trace or "").strip().upper()
                if trace not in inquiry:
                    unmatched.append(trace)
                    continue
                q = inquiry[trace]
                start, end = m.coverage_period
                rows.append((q.patient_id, q.payer_id, None if m.coverage is None else m.coverage == "active", start,
                             end, benefit_summaries(m.benefits),
                             [x["reason_code"] for x in ({"reason_code": r.reason_code} for r in m.rejections)]))
                answered.add(trace)
        for trace in sorted(t for t, q in inquiry.items() if q.file_id is not None and t not in answered):
            q = inquiry[trace]
            if aetna_ids and q.payer_id not in aetna_ids:
                continue
            rows.append((q.patient_id, q.payer_id, None, None, None, [], ["42"]))
            answered.add(trace)

        result = IngestResult()
        with capture_logs() as logs:
            g = ingest_bytes(app.config, app.uow, "271.x12", text.encode("latin-1"), result)
        assert g.state == "processed", g.error
        with app.transaction() as s:
            got = [(e.patient_id, e.payer_id, e.active, e.plan_start, e.plan_end, e.benefits,
                    [x["reason_code"] for x in e.rejections]) for e in s.scalars(select(Eligibility).order_by(Eligibility.id))]
            after = {q.trace: q.answered_at for q in s.scalars(select(Inquiry))}
        assert got == rows
        assert {t for t, at in after.items() if at is not None} == answered
        assert result.counts["members_unmatched"] == len(unmatched)
        assert (result.counts["eligibility_active"] + result.counts["eligibility_inactive"]
                + result.counts["eligibility_unknown"]) == len(rows)
        assert result.counts["eligibility_unknown"] == sum(1 for r in rows if r[2] is None)
        assert [e["trace"] for e in logs if e["event"] == "eligibility_unmatched"] == unmatched
        _no_phi(logs)
