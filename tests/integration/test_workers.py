"""Several workers on one PostgreSQL: real `edi` processes started together over the same waiting files.

Each file is claimed with a row lock held for the whole of its processing, so the workers share the
files: every file ends in the ledger once, processed (or failed) once, every claim is posted once,
both workers exit 0 (1 only for the one that failed the bad file), and neither prints a traceback.
The workers are held at the database until both have started (the test holds a lock on ``files``),
so they really run at the same time. Also here: a worker that dies holding a file leaves it to the
next one, and the mailbox operations two workers race on (a file gone before it is read, a file
archived by the other between the check and the move).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paramiko
import pytest
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session

import transports.local
from benchmarks.bench_claims import practice as claims_practice
from benchmarks.bench_claims import write_encounters
from benchmarks.bench_posting import practice, store_claims
from benchmarks.bench_workers import (
    DOWNLOAD,
    drop,
    inbound_files,
    make_files,
    payments_per_claim,
    start_workers,
    worker_output,
)
from edi.x12 import open_x12
from edi.x835 import parse_835
from models import Authorization, Claim, ClaimPayment, Encounter, File, Inquiry, Remittance, UnmatchedPayment
from pipelines.cli.app import App
from pipelines.errors import UsageError
from pipelines.usecases.claim_status import build_status_requests
from pipelines.usecases.denials import Resubmission, resubmit
from pipelines.usecases.eligibility import build_eligibility_requests
from pipelines.usecases.importer import import_authorizations, import_encounters
from pipelines.usecases.ingest import IngestResult, ingest_bytes, ingest_mailbox
from pipelines.usecases.ledger import read_archived_bytes, record_inbound
from pipelines.usecases.outbound import InquiryFile
from pipelines.usecases.submit import submit_and_upload
from tests.conftest import FIXTURES, make_app
from tests.integration.sshd import SshdServer
from tests.integration.test_denials import denied_claim
from transports import ARCHIVE_FOLDER, LocalMailbox, RemoteFile, SftpMailbox, TransferError

OTHERS = ["271/active_mh", "271/inactive", "271/rejected_aaa", "277/status", "277ca/accepted_rejected",
          "835/crossover", "835/denial_co197", "835/payer_claim_line_cas", "835/plb_composite", "835/split_claim",
          "835/reversal_correction"]
"""Fixture files that are processed on a practice without their claims (unmatched payments and statuses)."""
BAD = "835/unbalanced"
"""An 835 that does not balance: failed, nothing posted."""
TIMEOUT = 180.0


def _fixture(name: str) -> tuple[str, bytes]:
    return name.replace("/", "_") + ".x12", (FIXTURES / f"{name}.x12").read_bytes()


def _clps(data: bytes) -> int:
    return sum(len(parse_835(ts).claims) for ts in open_x12(data) if ts.set_id == "835")


def _sets(data: bytes) -> int:
    return sum(1 for ts in open_x12(data) if ts.set_id == "835")


@contextmanager
def _held_at_the_database(url: str, workers: int, table: str = "files") -> Iterator[None]:
    """Hold ``table`` locked until ``workers`` backends of this database wait for a lock (the workers
    started by the block), then let them all go at once."""
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            yield
            deadline = time.monotonic() + TIMEOUT
            while True:
                with eng.connect() as probe:
                    waiting = probe.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar_one()
                if waiting >= workers:
                    break
                assert time.monotonic() < deadline, f"only {waiting} of {workers} workers reached the database"
                time.sleep(0.05)
            conn.commit()
    finally:
        eng.dispose()


def _wait(procs: list[subprocess.Popen[str]]) -> list[int]:
    deadline = time.monotonic() + TIMEOUT
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
    return codes


def _outputs(folder: Path, n: int, tag: str = "worker") -> list[Any]:
    """The JSON each worker printed; none of them printed a traceback."""
    outs = []
    for i in range(n):
        out, err = worker_output(folder, i, tag)
        assert "Traceback" not in err, f"{tag} {i} printed a traceback:\n{err[-4000:]}"
        outs.append(json.loads(out))
    return outs


class Batch:
    """A practice on PostgreSQL with 36 generated 835s (5 claims each, the claims stored), the
    :data:`OTHERS` and the :data:`BAD` file, all waiting in the mailbox."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url
        folder.mkdir(parents=True)
        generated, claims, self.clps = make_files(36, 5, seed=7)
        app = practice(folder, url)
        store_claims(app, claims)
        app.close()
        self.bad = _fixture(BAD)
        self.others = [_fixture(n) for n in OTHERS]
        self.files = generated + self.others + [self.bad]
        drop(folder, self.files)

    def check_ledger(self) -> dict[str, int]:
        """Every file once in the ledger, processed once (the bad one failed once); name -> file id."""
        rows = inbound_files(self.url)
        assert sorted(r[0] for r in rows) == sorted(name for name, _ in self.files), "a file is missing or doubled"
        assert len({r[1] for r in rows}) == len(rows)
        states = {name: state for name, _, state, _ in rows}
        assert states == {name: "failed" if name == self.bad[0] else "processed" for name, _ in self.files}
        assert [r for r in rows if r[3] != 1] == [], "a file was processed more than once"
        eng = create_engine(self.url)
        with eng.connect() as conn:
            ids = dict(conn.execute(text("SELECT name, id FROM files WHERE direction = 'in'")).all())
        eng.dispose()
        return ids

    def check_postings(self) -> None:
        """Each stored claim has one payment per CLP; the other 835s' claims are unmatched once; one
        remittance per processed 835 transaction set."""
        assert payments_per_claim(self.url) == self.clps
        others_835 = [data for name, data in self.others if name.startswith("835_")]
        eng = create_engine(self.url)
        with eng.connect() as conn:
            unmatched = conn.execute(select(func.count()).select_from(UnmatchedPayment)).scalar_one()
            remittances = conn.execute(select(func.count()).select_from(Remittance)).scalar_one()
        eng.dispose()
        assert unmatched == sum(_clps(d) for d in others_835)
        generated_sets = len(self.files) - len(self.others) - 1
        assert remittances == generated_sets + sum(_sets(d) for d in others_835)

    def check_mailbox(self) -> None:
        """Nothing left waiting; every file archived in the mailbox."""
        download = self.folder / DOWNLOAD
        assert sorted(p.name for p in download.iterdir() if p.is_file()) == []
        assert sorted(p.name for p in (download / ARCHIVE_FOLDER).iterdir()) == sorted(n for n, _ in self.files)


@pytest.fixture
def batch(tmp_path: Path, db_url: str) -> Batch:
    return Batch(tmp_path / "practice", db_url)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
class TestTwoWorkers:
    @pytest.mark.parametrize("source", ["mailbox", "file arguments"])
    def test_two_ingests_share_the_files(self, batch: Batch, source: str) -> None:
        """Two `edi ingest` processes at once (over the mailbox, or both given every file): each file is
        processed by one of them, once; both exit 0 but the one that failed the bad file, which exits 1."""
        args = ["ingest", "--json"]
        if source == "file arguments":
            args += [str(batch.folder / DOWNLOAD / name) for name, _ in batch.files]
        with _held_at_the_database(batch.url, 2):
            procs = start_workers(batch.folder, batch.url, 2, *args)
        codes = _wait(procs)
        outs = _outputs(batch.folder, 2)
        ids = batch.check_ledger()
        batch.check_postings()
        if source == "mailbox":
            batch.check_mailbox()
        processed = [i for o in outs for i in o["processed"]]
        assert sorted(processed) == sorted(i for name, i in ids.items() if name != batch.bad[0])
        assert [i for o in outs for i in o["failed"]] == [ids[batch.bad[0]]]
        assert codes == [1 if o["failed"] else 0 for o in outs]
        assert all(o["processed"] for o in outs), "one worker did all the work: nothing was shared"

    def test_the_nightly_ingest_step_shares_with_an_ingest(self, batch: Batch) -> None:
        """`edi run --steps ingest` and `edi ingest` at once: between them every file processed once."""
        with _held_at_the_database(batch.url, 2):
            procs = [*start_workers(batch.folder, batch.url, 1, "run", "--steps", "ingest", "--json", tag="run"),
                     *start_workers(batch.folder, batch.url, 1, "ingest", "--json")]
        codes = _wait(procs)
        (run,), (ingest,) = _outputs(batch.folder, 1, "run"), _outputs(batch.folder, 1)
        ids = batch.check_ledger()
        batch.check_postings()
        batch.check_mailbox()
        (step,) = run["steps"]
        counts = step["counts"]
        assert counts["files_processed"] + len(ingest["processed"]) == len(batch.files) - 1
        assert counts.get("failed_file_ids", []) + ingest["failed"] == [ids[batch.bad[0]]]
        assert codes == [1 if counts["files_failed"] else 0, 1 if ingest["failed"] else 0]
        assert counts["files_processed"] and ingest["processed"], "one worker did all the work"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_dead_workers_file_goes_to_the_next_worker(tmp_path: Path, db_url: str) -> None:
    """A worker killed while it holds a file: another worker skips the file as long as the lock is held,
    and processes it (once) as soon as the dead worker's connection is gone."""
    folder = tmp_path / "practice"
    folder.mkdir()
    app = practice(folder, db_url)
    name, data = _fixture("835/split_claim")
    with app.transaction() as s:
        f, _ = record_inbound(s, name=name, data=data, archive_dir=app.config.archive_dir)  # a crash left it
        file_id = f.id
    app.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom sqlalchemy import create_engine, text\n"
         "conn = create_engine(sys.argv[1]).connect()\n"
         "conn.execute(text('SELECT id FROM files WHERE id = :i FOR UPDATE'), {'i': int(sys.argv[2])})\n"
         "print(conn.execute(text('SELECT pg_backend_pid()')).scalar_one(), flush=True)\ntime.sleep(600)\n",
         db_url, str(file_id)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        backend = int(holder.stdout.readline())
        (code,) = _wait(start_workers(folder, db_url, 1, "ingest", "--json"))
        (first,) = _outputs(folder, 1)
        assert (code, first["processed"], first["failed"]) == (0, [], [])
        assert inbound_files(db_url)[0][2:] == ("received", 0)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 30
    eng = create_engine(db_url)
    with eng.connect() as conn:  # the server ends the dead worker's session, and its lock with it
        while conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": backend}).scalar_one():
            assert time.monotonic() < deadline, "the server kept the dead worker's session"
            time.sleep(0.05)
    eng.dispose()
    (code,) = _wait(start_workers(folder, db_url, 1, "ingest", "--json"))
    (second,) = _outputs(folder, 1)
    assert (code, second["processed"]) == (0, [file_id])
    assert inbound_files(db_url)[0][2:] == ("processed", 1)


class _OtherWorkerBox(LocalMailbox):
    """A local mailbox beside another worker: its listing still shows ``gone`` (the other worker
    archived it after the listing), and it refuses to read ``refused`` (a file that is there)."""

    def __init__(self, base: Path, *, gone: str = "", refused: str = "") -> None:
        super().__init__(base)
        self.gone, self.refused = gone, refused

    def list(self, folder: str) -> list[RemoteFile]:
        extra = [RemoteFile(self.gone, 10, datetime(2026, 11, 20, tzinfo=UTC))] if self.gone else []
        return sorted([*super().list(folder), *extra], key=lambda f: f.name)

    def get(self, folder: str, name: str) -> bytes:
        if name == self.refused:
            raise TransferError(f"cannot read {folder}/{name}: Permission denied")
        return super().get(folder, name)


def _box(app: App, **kwargs: str) -> _OtherWorkerBox:
    configured = app.mailbox()
    assert isinstance(configured, LocalMailbox)
    return _OtherWorkerBox(configured.base_dir, **kwargs)


def test_a_file_gone_before_it_is_read_is_skipped(app: App) -> None:
    """A listed file another worker archived before this one read it is skipped; the rest is processed."""
    box = _box(app, gone="835_0000.x12")
    download = app.config.transport.download_dir
    name, data = _fixture("835/crossover")
    box.put(download, name, data)
    result = IngestResult()
    ingest_mailbox(app.config, app.uow, box, result)
    assert (len(result.processed), result.failed, result.duplicates, result.taken) == (1, [], [], [])
    assert box.exists(f"{download}/{ARCHIVE_FOLDER}", name) == len(data)


def test_a_file_that_is_there_but_cannot_be_read_is_still_an_error(app: App) -> None:
    """Only a file that is gone is skipped: one the mailbox refuses to read stops the ingest as before."""
    box = _box(app, refused="locked.x12")
    box.put(app.config.transport.download_dir, "locked.x12", b"ISA")
    with pytest.raises(TransferError, match="Permission denied"):
        ingest_mailbox(app.config, app.uow, box, IngestResult())


def test_archiving_a_file_the_other_worker_moved_first_is_harmless(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The other worker's move lands between this one's check and its own move: no error, archived once."""
    box = LocalMailbox(tmp_path)
    box.put("outbound", "a.x12", b"ISA*")
    real = os.replace
    moves: list[str] = []

    def other_worker_first(src: Any, dst: Any) -> None:
        moves.append(str(src))
        real(src, dst)  # the other worker's move
        real(src, dst)  # ours: the file is gone

    monkeypatch.setattr(transports.local.os, "replace", other_worker_first)
    box.archive("outbound", "a.x12")
    assert moves == [str(tmp_path / "outbound" / "a.x12")]
    assert (tmp_path / "outbound" / ARCHIVE_FOLDER / "a.x12").read_bytes() == b"ISA*"
    assert Counter(p.name for p in (tmp_path / "outbound").iterdir()) == Counter({ARCHIVE_FOLDER: 1})


@pytest.mark.sshd
def test_sftp_archive_races_with_the_other_worker(sftp_mailbox: SftpMailbox, sshd_server: SshdServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Over SFTP, the other worker makes the archive folder after this one saw none, then moves the file
    after this one saw it: no error, the file archived once, and the connection still works."""
    folder = sshd_server.mailbox_dir / "outbound"
    folder.mkdir()
    sftp_mailbox.put("outbound", "a.x12", b"ISA*")
    real_mkdir, real_rename = paramiko.SFTPClient.mkdir, SftpMailbox._rename
    raced: list[str] = []

    def mkdir_after_the_other(self: paramiko.SFTPClient, path: str, mode: int = 0o777) -> None:
        raced.append("mkdir")
        (folder / ARCHIVE_FOLDER).mkdir()
        real_mkdir(self, path, mode)

    def rename_after_the_other(self: SftpMailbox, sftp: paramiko.SFTPClient, src: str, dst: str, action: str) -> None:
        raced.append("rename")
        os.replace(folder / "a.x12", folder / ARCHIVE_FOLDER / "a.x12")
        real_rename(self, sftp, src, dst, action)

    monkeypatch.setattr(paramiko.SFTPClient, "mkdir", mkdir_after_the_other)
    monkeypatch.setattr(SftpMailbox, "_rename", rename_after_the_other)
    sftp_mailbox.archive("outbound", "a.x12")
    assert raced == ["mkdir", "rename"]
    assert (folder / ARCHIVE_FOLDER / "a.x12").read_bytes() == b"ISA*"
    assert sftp_mailbox.list("outbound") == []


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_files_with_one_remittance_at_once_post_it_once(tmp_path: Path, db_url: str) -> None:
    """Two different files (other envelopes) carrying the same payer's remittance, ingested by two
    workers at the same moment: one posts it, the other counts a duplicate; neither fails on the
    unique payer and trace, and each claim has one payment."""
    files, claims, clps = make_files(1, 5, seed=11)
    ((_, data),) = files
    app = practice(tmp_path, db_url)
    store_claims(app, claims)
    app.close()
    other = data.replace(b"*000000001*0*T*:~", b"*000000002*0*T*:~").replace(b"IEA*1*000000001~", b"IEA*1*000000002~")
    assert other != data
    results: list[IngestResult] = []
    errors: list[BaseException] = []

    apps = {}
    for label in ("a", "b"):  # each worker its own engine (the schema is upgraded here, not at once in the threads)
        (tmp_path / label).mkdir()
        apps[label] = practice(tmp_path / label, db_url)

    def worker(label: str, payload: bytes) -> None:
        one = apps[label]
        try:
            result = IngestResult()
            ingest_bytes(one.config, one.uow, f"{label}.835", payload, result)
            results.append(result)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)
        finally:
            one.close()

    threads = [threading.Thread(target=worker, args=(label, payload))
               for label, payload in (("a", data), ("b", other))]
    with _held_at_the_database(db_url, 2, "remittances"):
        for t in threads:
            t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert errors == []
    assert sorted(len(r.failed) for r in results) == [0, 0], [r.failed for r in results]
    counts = sorted((r.counts.get("remittances_posted", 0), r.counts.get("duplicate_remittances", 0))
                    for r in results)
    assert counts == [(0, 1), (1, 0)]
    assert payments_per_claim(db_url) == clps


def _practices(tmp_path: Path, db_url: str, encounters: int) -> dict[str, App]:
    """A practice with ``encounters`` imported, and two workers' Apps over its database."""
    csv_path = tmp_path / "encounters.csv"
    write_encounters(csv_path, encounters, seed=5)
    app = claims_practice(tmp_path, db_url)
    imported = import_encounters(app.config, app.uow, csv_path)
    assert (imported.inserted, imported.errors) == (encounters, [])
    app.close()
    apps = {}
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        apps[label] = claims_practice(tmp_path / label, db_url)
    return apps


def _at_once(db_url: str, apps: dict[str, App], work: Callable[[App], Any], table: str = "claims") -> dict[str, Any]:
    """``work`` run by both workers at the same moment (on PostgreSQL held at ``table`` until both
    wait at the database); what each returned."""
    results: dict[str, Any] = {}
    errors: list[BaseException] = []
    both_in = threading.Barrier(len(apps))

    def worker(label: str) -> None:
        one = apps[label]
        try:
            both_in.wait(TIMEOUT)
            results[label] = work(one)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)
        finally:
            one.close()

    threads = [threading.Thread(target=worker, args=(label,)) for label in apps]
    pg = db_url.startswith("postgresql")
    with _held_at_the_database(db_url, len(apps), table) if pg else contextlib.nullcontext():
        for t in threads:
            t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert errors == []
    assert sorted(results) == sorted(apps)
    return results


def _submit(app: App) -> dict[str, Any]:
    with app.mailbox() as mailbox:
        return submit_and_upload(app.config, app.uow, mailbox, as_of=app.as_of)


def test_two_submits_at_once_bill_each_encounter_once(tmp_path: Path, db_url: str) -> None:
    """Two `edi claims submit` at the same moment (or one beside the nightly run) over the same
    pending encounters: each encounter gets one claim, each claim goes out in exactly one 837P, and
    no interchange control number repeats. Without the outbound lock both coded every encounter
    (two claims each), or one coded again a claim the other was sending and put it back to ready."""
    results = _at_once(db_url, _practices(tmp_path, db_url, 400), _submit)
    eng = create_engine(db_url)
    try:
        with Session(eng) as s:
            per_encounter = Counter(s.scalars(select(Claim.encounter_id)))
            submitted = set(s.scalars(select(Claim.claim_id).where(Claim.status == "submitted")))
            files = list(s.scalars(select(File).where(File.kind == "837P")))
            in_files = Counter(clm01 for f in files
                               for clm01 in re.findall(rb"~\s*CLM\*([^*]+)\*", read_archived_bytes(f)))
    finally:
        eng.dispose()
    assert len(per_encounter) == 400 and set(per_encounter.values()) == {1}
    assert submitted and set(in_files.values()) == {1}
    assert {c.decode() for c in in_files} == submitted
    assert len({f.isa_control for f in files}) == len(files)
    assert sum(r["sent"] for r in results.values()) == len(submitted)


@pytest.mark.parametrize("kind", ["270", "276"])
def test_two_inquiry_builders_at_once_ask_each_once(tmp_path: Path, db_url: str, kind: str) -> None:
    """Two workers building 270s (or 276s) at the same moment: each patient and payer (each claim)
    is asked about once, in one file. Without the outbound lock both found the same pairs due."""
    apps = _practices(tmp_path, db_url, 200)
    if kind == "270":
        def build(app: App) -> InquiryFile:
            return build_eligibility_requests(app.config, app.uow, as_of=app.as_of)
    else:  # claims sent (by one worker) two months ago, with no answer since
        assert _submit(claims_practice(tmp_path, db_url))["sent"] > 0
        eng = create_engine(db_url)
        with eng.begin() as conn:
            conn.execute(update(Claim).values(submitted_at=datetime.now(UTC) - timedelta(days=60)))
        eng.dispose()

        def build(app: App) -> InquiryFile:
            return build_status_requests(app.config, app.uow, as_of=datetime.now(UTC).date())
    results = _at_once(db_url, apps, build)
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            asked = Counter(conn.execute(select(Inquiry.patient_id, Inquiry.payer_id, Inquiry.claim_pk)
                                         .where(Inquiry.kind == kind)).all())
    finally:
        eng.dispose()
    assert asked and set(asked.values()) == {1}
    assert sum(len(r.sent) for r in results.values()) == len(asked)
    assert sorted(r.file is None for r in results.values()) == [False, True]  # one file; the other found none due


@pytest.mark.parametrize("kind", ["encounters", "authorizations"])
def test_one_file_imported_twice_at_once_takes_turns(tmp_path: Path, db_url: str, kind: str) -> None:
    """The same CSV imported by two workers at the same moment: as one after the other, the first
    inserts its rows and the second replaces them (without the import lock the second failed on
    the rows the first was inserting)."""
    table: type[Encounter | Authorization]
    if kind == "encounters":
        path = tmp_path / "to_import.csv"
        write_encounters(path, 300, seed=9)
        rows, table = 300, Encounter
    else:
        path = FIXTURES / "authorizations" / "sample.csv"
        rows, table = 3, Authorization
    apps = _practices(tmp_path, db_url, 0)
    importer = import_encounters if kind == "encounters" else import_authorizations
    results = _at_once(db_url, apps, lambda app: importer(app.config, app.uow, path), table.__tablename__)
    assert sorted((r.inserted, r.replaced, len(r.errors)) for r in results.values()) == [(0, rows, 0), (rows, 0, 0)]
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == rows
    finally:
        eng.dispose()


def test_one_claim_resubmitted_twice_at_once_is_replaced_once(tmp_path: Path, db_url: str) -> None:
    """Two operators resubmitting the same denied claim at the same moment: one replacement claim
    and file; the other is told it was already resubmitted. (PostgreSQL's row lock on the original
    already did this; on SQLite both read before either wrote and each made a replacement.)"""
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
    apps = {label: make_app(tmp_path / label, db_url) for label in ("a", "b")}
    denied_claim(apps["a"])

    def resubmit_it(app: App) -> Resubmission | UsageError:
        with app.mailbox() as mailbox:
            try:
                return resubmit(app.config, app.uow, mailbox, "C000500")
            except UsageError as e:
                return e

    results = _at_once(db_url, apps, resubmit_it)
    refused = [r for r in results.values() if isinstance(r, UsageError)]
    assert len(refused) == 1 and "already resubmitted" in str(refused[0])
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            replacements = conn.execute(select(Claim.claim_id).where(Claim.original_claim_id == "C000500")).all()
            files = conn.execute(select(func.count()).select_from(File).where(File.kind == "837P")).scalar_one()
    finally:
        eng.dispose()
    assert len(replacements) == 1 and files == 1


def test_two_remittances_paying_the_same_claims_at_once_add_up(tmp_path: Path, db_url: str) -> None:
    """Two different remittances (other traces) paying the same claims, posted by two workers at the
    same moment: each claim's paid amount is the sum of all its payments. Without the claims locked
    as they are read, the second computed its claims from what it read before the first committed,
    and its update overwrote the first's payment."""
    files, claims, clps = make_files(1, 40, seed=13)
    ((_, data),) = files
    trace = re.search(rb"~\s*TRN\*1\*([^*~]+)", data)
    assert trace is not None
    other = (data.replace(b"*000000001*0*T*:~", b"*000000002*0*T*:~").replace(b"IEA*1*000000001~", b"IEA*1*000000002~")
             .replace(b"TRN*1*" + trace.group(1), b"TRN*1*" + trace.group(1) + b"B"))
    app = practice(tmp_path, db_url)
    store_claims(app, claims)
    app.close()
    apps = {}
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        apps[label] = practice(tmp_path / label, db_url)

    payloads = {id(apps["a"]): data, id(apps["b"]): other}

    def post(app: App) -> IngestResult:
        result = IngestResult()
        ingest_bytes(app.config, app.uow, f"{id(app)}.835", payloads[id(app)], result)
        return result

    results = _at_once(db_url, apps, post)
    assert [r.counts.get("remittances_posted") for r in results.values()] == [1, 1]
    assert payments_per_claim(db_url) == Counter({c: 2 * n for c, n in clps.items()})
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            paid = dict(conn.execute(select(Claim.claim_id, Claim.paid)).all())
            summed = dict(conn.execute(select(Claim.claim_id, func.sum(ClaimPayment.paid))
                                       .join(ClaimPayment, ClaimPayment.claim_pk == Claim.id)
                                       .group_by(Claim.claim_id)).all())
    finally:
        eng.dispose()
    assert paid == summed
