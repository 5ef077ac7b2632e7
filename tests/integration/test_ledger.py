"""The file ledger, control numbers and the schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from models import Base, File, Remittance, make_engine
from pipelines.cli.app import App
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from pipelines.usecases.ledger import next_control, record_inbound, sniff_kind
from pipelines.usecases.schema import migrate, upgrade
from tests.conftest import PG_ADMIN_URL, make_app
from tests.integration.test_posting import add_claim

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"

TA1 = (b"ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*SUNRISE01      *261127*1200*^*00501*"
       b"000000077*0*T*:~TA1*000000005*261126*1200*A*000~IEA*0*000000077~")


class TestSchema:
    def test_migrations_match_the_models(self, db_url: str) -> None:
        """After `alembic upgrade head` the database has exactly the tables and columns of the models."""
        eng = make_engine(db_url)
        with eng.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        eng.dispose()
        assert diff == []

    def test_claim_lines_leave_room_for_heap_only_updates(self, db_url: str) -> None:
        """PostgreSQL: claim_lines has fillfactor 45 (posting the paid amounts of a claim's lines stays on their page)."""
        if not db_url.startswith("postgresql"):
            pytest.skip("a PostgreSQL storage parameter")
        eng = make_engine(db_url)
        with eng.connect() as conn:
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'claim_lines'")).scalar()
        eng.dispose()
        assert options == ["fillfactor=45"]


    def test_migrations_keep_every_posted_row(self, tmp_path: Path, db_url: str) -> None:
        """Migration 0005 builds claim_payments again on SQLite: the denials and adjustments that name its
        rows stay, down to 0004 and up again (with foreign keys enforced, SQLite's rebuild deleted them)."""
        url = db_url
        if db_url.startswith("postgresql"):  # a database of its own: this one goes down and up
            url = db_url.rsplit("/", 1)[0] + f"/edi_migrate_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
        eng = make_engine(url)
        try:
            upgrade(eng)
            app = make_app(tmp_path, url)
            with app.transaction() as s:
                add_claim(s, "C000500", [("L000800", "90837", ("95",), "180.00")])
            assert ingest_bytes(app.config, app.uow, "d.835", (FIXTURES / "835" / "denial_co197.x12").read_bytes(),
                                IngestResult()).state == "processed"
            app.close()
            tables = ("claim_payments", "adjustments", "remarks", "denials", "claim_status_events")

            def counts() -> dict[str, int]:
                with eng.connect() as conn:
                    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}

            posted = counts()
            assert posted["denials"] == posted["claim_payments"] == 1 and posted["adjustments"] >= 1
            migrate(eng, "0004", down=True)
            assert counts() == posted
            upgrade(eng)
            assert counts() == posted
            if eng.dialect.name == "sqlite":  # enforced again on the connection the migration used
                with eng.connect() as conn:
                    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        finally:
            eng.dispose()
            if url != db_url:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
                admin.dispose()

    @pytest.mark.parametrize("table", ["remittances", "files"])
    def test_remittances_and_files_are_never_deleted(self, app: App, table: str) -> None:
        """Payments and status events name them without a foreign key (migration 0005): a delete is refused
        (claim payments too: tests/integration/test_posting.py)."""
        with app.transaction() as s:
            f, _ = record_inbound(s, name="ack.x12", data=TA1, archive_dir=app.config.archive_dir)
            s.add(Remittance(file_id=f.id, st_control="0001", payer_key="P", trace_number="T1", amount=Decimal("0"),
                             balanced=True))
        with app.engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
        with pytest.raises(DBAPIError, match=f"rows of {table} are never deleted"), app.engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {table}"))
        with app.engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1


class TestControlNumbers:
    def test_numbers_are_consecutive_per_sender_and_kind(self, app: App) -> None:
        """Each kind counts on its own, per sender, from 1."""
        with app.transaction() as s:
            got = [next_control(s, "A", "ISA13") for _ in range(3)] + [next_control(s, "A", "GS06"),
                                                                       next_control(s, "B", "ISA13")]
            assert next_control(s, "A", "ST02", 5) == 1
            assert next_control(s, "A", "ST02") == 6
        assert got == [1, 2, 3, 1, 1]

    def test_concurrent_allocation_never_repeats_a_number(self, app: App) -> None:
        """Eight threads allocating at once get distinct numbers (row lock on PostgreSQL, one writer on SQLite)."""
        seen: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def work() -> None:
            try:
                for _ in range(10):
                    with app.transaction() as s:
                        n = next_control(s, "SUNRISE01", "ISA13")
                    with lock:
                        seen.append(n)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(seen) == list(range(1, 81))


class TestInbound:
    def test_file_is_archived_0600_before_processing(self, app: App) -> None:
        """A received file is stored with sha256, kind and control numbers, its bytes archived with mode 0600."""
        with app.transaction() as s:
            f, new = record_inbound(s, name="ack.x12", data=TA1, archive_dir=app.config.archive_dir)
        assert new and f.kind == "TA1" and f.isa_control == "000000077" and f.state == "received"
        path = Path(f.archive_path or "")
        assert path.read_bytes() == TA1
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700

    def test_same_bytes_twice_is_recognised(self, app: App) -> None:
        """The same file received twice is one record."""
        with app.transaction() as s:
            a, _ = record_inbound(s, name="x.x12", data=TA1, archive_dir=app.config.archive_dir)
        with app.transaction() as s:
            b, new = record_inbound(s, name="y.x12", data=TA1, archive_dir=app.config.archive_dir)
            count = len(list(s.scalars(select(File))))
        assert (b.id, new, count) == (a.id, False, 1)

    def test_bad_file_is_marked_failed_and_the_next_goes_on(self, app: App) -> None:
        """A file that is not X12 fails with its error; a good file after it is still processed."""
        result = IngestResult()
        bad = ingest_bytes(app.config, app.uow, "junk.x12", b"this is not an X12 file at all\n" * 5, result)
        assert bad.state == "failed" and "does not start with an ISA" in (bad.error or "")
        assert (bad.error_position or {}).get("offset") == 0
        with app.transaction() as s:
            f = s.get(File, bad.id)
            assert f is not None and f.state == "failed"
        assert result.failed == [bad.id]


@pytest.mark.parametrize(("data", "kind"), [
    (TA1, "TA1"),
    (b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*T*:~"
     b"GS*HN*A*B*20261127*1200*1*X*005010X214~ST*277*0001*005010X214~", "277CA"),
    (b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261127*1200*^*00501*000000001*0*T*:~"
     b"GS*HN*A*B*20261127*1200*1*X*005010X212~ST*277*0001*005010X212~", "277"),
    (b"ISA|00|          |00|          |ZZ|A              |ZZ|B              |261127|1200|^|00501|000000001|0|T|>\n"
     b"GS|HP|A|B|20261127|1200|1|X|005010X221A1\nST|835|0001\n", "835"),
    (b"garbage", "unknown"),
], ids=["ta1", "277ca", "277", "835-newline-terminated", "not-x12"])
def test_kind_is_sniffed_from_the_envelope(data: bytes, kind: str) -> None:
    """The kind of an inbound file is read from its ISA/GS/ST headers."""
    assert sniff_kind(data)[0] == kind
