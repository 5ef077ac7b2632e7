"""Inbound faults, on SQLite and PostgreSQL: one bad file never stops a batch, a size limit, 835s for
another payee, and the audit of a replay."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Claim, ClaimPayment, File, Remittance
from pipelines.cli.app import App
from pipelines.usecases.files import replay_file
from pipelines.usecases.ingest import IngestResult, ingest_bytes, ingest_mailbox
from pipelines.usecases.ledger import sniff_kind
from tests.conftest import FIXTURES
from tests.integration.test_posting import PAID_LINES, add_claim

ISA = (b"ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*SUNRISE01      *261127*1200*^*00501*"
       b"000000077*0*T*:~")

BAD: dict[str, bytes] = {
    "empty": b"",
    "gs_without_elements": ISA + b"GS~ST*835*0001~SE*2*0001~GE*1*1~IEA*1*000000077~",
    "st_without_elements": ISA + b"GS*HP*A*B*20261127*1200*1*X*005010X221A1~ST~SE*2*0001~GE*1*1~IEA*1*000000077~",
    "isa_cut_short": ISA[:60],
    "binary_garbage": bytes(range(256)) * 8,
    "binary_after_isa": b"ISA" + bytes(range(256)),
    "not_x12": b"Dear billing office,\nplease find attached ...\n" * 4,
}
GOOD = ("crossover", "split_claim", "denial_co197", "plb_composite")


def _fixture(name: str) -> bytes:
    return (FIXTURES / "835" / f"{name}.x12").read_bytes()


def _count(app: App, model: type, *where: object) -> int:
    with app.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def _other_payee(data: bytes, *, npi: bool = True) -> bytes:
    """The same 835 addressed to another provider (by NPI, else by tax id)."""
    if npi:
        return data.replace(b"N1*PE*SUNRISE BEHAVIORAL HEALTH*XX*1234567893", b"N1*PE*OTHER CLINIC*XX*1679576722")
    return data.replace(b"REF*TJ*123456789", b"REF*TJ*987654321")


class TestSniff:
    @pytest.mark.parametrize("name", sorted(BAD))
    def test_sniffing_never_raises(self, name: str) -> None:
        """Whatever the bytes, sniffing gives a kind (unknown when it cannot tell) and never raises."""
        kind, *_ = sniff_kind(BAD[name])
        assert kind in ("unknown", "835")


class TestOneBadFileNeverStopsABatch:
    def test_good_files_around_bad_ones_are_all_processed(self, app: App) -> None:
        """Each bad file is stored and failed with its error and position; every good file after it is processed."""
        batch: list[tuple[str, bytes]] = []
        for i, name in enumerate(sorted(BAD)):
            batch.append((f"{name}.x12", BAD[name]))
            batch.append((f"good{i}.x12", _fixture(GOOD[i % len(GOOD)]) if i < len(GOOD) else
                          _fixture(GOOD[i % len(GOOD)]).replace(b"SUNRISE01", b"SUNRISE02")))
        result = IngestResult()
        files = [ingest_bytes(app.config, app.uow, name, data, result) for name, data in batch]
        states = {f.name: f.state for f in files}
        assert all(states[f"{name}.x12"] == "failed" for name in BAD), states
        assert all(states[f"good{i}.x12"] == "processed" for i in range(len(BAD))), states
        with app.transaction() as s:
            for f in s.scalars(select(File).where(File.state == "failed")):
                assert f.error and not f.error.startswith("internal error"), (f.name, f.error)
                assert f.error_position is not None, f.name
                assert Path(f.archive_path or "").read_bytes() == BAD[f.name.removesuffix(".x12")]
        assert len(result.failed) == len(BAD) and len(result.processed) == len(BAD)

    def test_the_gs_without_elements_names_its_position(self, app: App) -> None:
        """The file that used to stop a batch (a GS with no elements) fails naming segment and element."""
        f = ingest_bytes(app.config, app.uow, "gs.x12", BAD["gs_without_elements"], IngestResult())
        assert f.state == "failed" and (f.error_position or {}).get("segment_number")

    def test_a_mailbox_batch_goes_on_past_bad_files(self, app: App) -> None:
        """`edi ingest` over the download folder: bad files fail, the others are processed, all are archived."""
        download = app.config.transport.download_dir
        with app.mailbox() as mailbox:
            mailbox.put(download, "a_empty.x12", b"")
            mailbox.put(download, "b_good.x12", _fixture("crossover"))
            mailbox.put(download, "c_binary.x12", BAD["binary_garbage"])
            mailbox.put(download, "d_good.x12", _fixture("split_claim"))
            mailbox.put(download, "e_st.x12", BAD["st_without_elements"])
            result = IngestResult()
            ingest_mailbox(app.config, app.uow, mailbox, result)
            assert mailbox.list(download) == []
        assert len(result.processed) == 2 and len(result.failed) == 3
        assert _count(app, Remittance) == 2


class TestSizeLimit:
    def test_an_oversized_file_is_recorded_and_failed_and_the_batch_goes_on(self, app: App) -> None:
        """Over [limits] max_inbound_bytes: kept (name, size, sha256, archived), failed with the limit; then the next."""
        small = dataclasses.replace(app.config, max_inbound_bytes=500)
        big, ok = _fixture("crossover"), BAD["not_x12"]
        assert len(big) > 500 >= len(ok)
        result = IngestResult()
        f = ingest_bytes(small, app.uow, "big.835", big, result)
        after = ingest_bytes(small, app.uow, "next.x12", ok, result)
        assert f.state == "failed" and f.size == len(big) and f.sha256 == hashlib.sha256(big).hexdigest()
        assert f.error == (f"{len(big)} bytes, over the limit of 500 ([limits] max_inbound_bytes); the file is "
                           f"kept in the archive: raise the limit, then `edi replay {f.id}`")
        assert Path(f.archive_path or "").read_bytes() == big
        assert after.state == "failed" and "ISA" in (after.error or "")  # processed (parsed), not refused for size
        assert _count(app, Remittance) == 0

    def test_replay_after_raising_the_limit_processes_it(self, app: App) -> None:
        """The archived file is processed by `edi replay` once the limit allows it."""
        small = dataclasses.replace(app.config, max_inbound_bytes=100)
        f = ingest_bytes(small, app.uow, "big.835", _fixture("crossover"), IngestResult())
        assert f.state == "failed"
        again = replay_file(small, app.uow, f.id, open_mailbox=app.mailbox)
        assert again.state == "failed" and "over the limit" in (again.error or "")
        done = replay_file(app.config, app.uow, f.id, open_mailbox=app.mailbox)
        assert done.state == "processed" and _count(app, Remittance) == 1


class TestPayee:
    @pytest.mark.parametrize("by_npi", [True, False], ids=["npi", "tax_id"])
    def test_an_835_for_another_payee_is_failed_not_posted(self, app: App, by_npi: bool) -> None:
        """Payee NPI or tax id not the practice's: the file fails naming both, nothing is posted."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        f = ingest_bytes(app.config, app.uow, "other.835", _other_payee(_fixture("payer_claim_line_cas"), npi=by_npi),
                         IngestResult())
        assert f.state == "failed" and "not addressed to the practice" in (f.error or "")
        assert ("payee NPI 1679576722" if by_npi else "payee tax id 987654321") in (f.error or "")
        assert (f.error_position or {}).get("segment_id") == "N1"
        assert _count(app, Remittance) == 0 and _count(app, ClaimPayment) == 0
        with app.transaction() as s:
            assert s.scalar(select(Claim.status).where(Claim.claim_id == "C000123")) == "submitted"

    def test_replay_without_force_fails_again_and_with_force_posts_and_is_audited(self, app: App) -> None:
        """After review, `replay --force` posts the 835; each replay is an audit event, the forced one marked."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        f = ingest_bytes(app.config, app.uow, "other.835", _other_payee(_fixture("payer_claim_line_cas")),
                         IngestResult())
        assert replay_file(app.config, app.uow, f.id, open_mailbox=app.mailbox).state == "failed"
        forced = replay_file(app.config, app.uow, f.id, force=True, open_mailbox=app.mailbox)
        assert forced.state == "processed" and forced.counts["payee_forced"] == 1
        assert _count(app, ClaimPayment) == 1
        with app.transaction() as s:
            events = [(e.action, e.subject, e.forced, e.detail["direction"], e.detail["kind"], e.detail["state"])
                      for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert events == [("replay", f"file {f.id}", False, "in", "835", "failed"),
                          ("replay", f"file {f.id}", True, "in", "835", "processed")]

    def test_the_practice_own_835_is_posted(self, app: App) -> None:
        """An 835 whose payee NPI and tax id are the practice's posts as before."""
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        f = ingest_bytes(app.config, app.uow, "ours.835", _fixture("payer_claim_line_cas"), IngestResult())
        assert f.state == "processed" and _count(app, ClaimPayment) == 1


class TestDatabaseRefusesAWrite:
    """A write the database refuses in the middle of a posting (on PostgreSQL it runs on the writer
    thread, after the payments' COPY went in): the file fails with the database's words, nothing of
    it stays, no thread is left behind, and a replay posts it once the cause is gone."""

    REFUSE = {  # the 835 status event of one claim is refused by a trigger
        "sqlite": ["CREATE TRIGGER refuse_event BEFORE INSERT ON claim_status_events WHEN NEW.source = '835' "
                   "BEGIN SELECT RAISE(ABORT, 'status events refused for this test'); END"],
        "postgresql": ["CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "RAISE EXCEPTION 'status events refused for this test'; END $$",
                       "CREATE TRIGGER refuse_event BEFORE INSERT ON claim_status_events FOR EACH ROW "
                       "WHEN (NEW.source = '835') EXECUTE FUNCTION refuse_event()"],
    }

    def test_the_file_fails_whole_and_replays(self, app: App) -> None:
        with app.transaction() as s:
            add_claim(s, "C000123", PAID_LINES)
        with app.engine.begin() as conn:
            for sql in self.REFUSE[app.engine.dialect.name]:
                conn.exec_driver_sql(sql)
        bad = ingest_bytes(app.config, app.uow, "paid.835", _fixture("payer_claim_line_cas"), IngestResult())
        assert bad.state == "failed" and "status events refused for this test" in (bad.error or "")
        assert [t.name for t in threading.enumerate() if t.name in ("write-behind", "835-read-ahead")] == []
        assert _count(app, Remittance) == 0 and _count(app, ClaimPayment) == 0  # the payments' COPY went too
        with app.transaction() as s:
            assert s.scalar(select(Claim.status).where(Claim.claim_id == "C000123")) == "submitted"
        with app.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_event" + (" ON claim_status_events" if app.engine.dialect.name
                                                                == "postgresql" else ""))
        done = replay_file(app.config, app.uow, bad.id, open_mailbox=app.mailbox)
        assert done.state == "processed" and _count(app, ClaimPayment) == 1
        with app.transaction() as s:
            assert s.scalar(select(Claim.status).where(Claim.claim_id == "C000123")) == "paid"
