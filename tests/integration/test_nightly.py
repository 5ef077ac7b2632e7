"""The nightly run: recorded steps, one run at a time, reruns, and the whole loop over a real sshd."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Claim, File, Remittance, Run
from pipelines.cli.app import App
from pipelines.config import load_config
from pipelines.simulator import payer_rules_from_config, simulate_mailbox
from pipelines.usecases.importer import import_authorizations, import_encounters
from pipelines.usecases.nightly import nightly_run, run_lock
from tests.conftest import FIXTURES
from tests.integration.sshd import SshdServer

AS_OF = date(2026, 6, 15)
EDI = str(Path(sys.executable).parent / "edi")


def _load(app: App) -> App:
    app.as_of = AS_OF
    assert not import_authorizations(app.config, app.uow, FIXTURES / "authorizations" / "sample.csv").errors
    assert not import_encounters(app.config, app.uow, FIXTURES / "encounters" / "sample.csv").errors
    return app


def _mailbox_root(app: App) -> Path:
    return Path(app.config.transport.url[len("local:"):])


class TestRun:
    def test_steps_are_recorded_in_order_with_counts(self, app: App) -> None:
        """A run records each step with its status and counts, and the run as ok."""
        _load(app)
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)
        assert run.status == "ok"
        assert [s.name for s in steps] == ["submit", "eligibility", "status", "upload", "ingest", "report"]
        assert all(s.status == "ok" and s.finished_at is not None for s in steps)
        submit = steps[0].counts or {}
        assert submit["coded"] == 41 and submit["files_837p"] == 1
        assert (steps[3].counts or {})["uploaded"] == 2  # the 837P and the 270
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Run)) == 1

    def test_a_second_run_sends_nothing_new(self, app: App) -> None:
        """Running again with no answers and no new encounters writes and uploads no file."""
        _load(app)
        nightly_run(app.config, app.uow, as_of=app.as_of)
        with app.transaction() as s:
            before = s.scalar(select(func.count()).select_from(File))
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(File)) == before
        assert run.status == "ok" and (steps[3].counts or {})["uploaded"] == 0
        with app.transaction() as s:
            names = sorted(s.scalars(select(File.name).where(File.direction == "out")))
        assert sorted(p.name for p in (_mailbox_root(app) / "inbound").iterdir() if p.is_file()) == names

    def test_answers_are_posted_by_the_next_run(self, app: App) -> None:
        """Run, clearinghouse answers, run again: claims end accepted, paid or denied and 835s are posted once."""
        _load(app)
        nightly_run(app.config, app.uow, as_of=app.as_of)
        root = _mailbox_root(app)
        simulate_mailbox(root, seed=3, as_of=AS_OF, payers=payer_rules_from_config(app.config))
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)
        ingest = steps[4].counts or {}
        assert run.status == "ok" and ingest["files_failed"] == 0 and ingest["files_processed"] >= 3
        with app.transaction() as s:
            statuses = dict(s.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())
            remittances = s.scalar(select(func.count()).select_from(Remittance))
        assert statuses.get("submitted", 0) == 0
        assert statuses.get("paid", 0) > 0 and remittances
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)  # nothing new arrives: nothing changes
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Remittance)) == remittances

    def test_bad_inbound_file_fails_alone_and_the_run_says_so(self, app: App) -> None:
        """A broken file in the download folder is marked failed, the good ones posted, the run failed."""
        _load(app)
        nightly_run(app.config, app.uow, as_of=app.as_of)
        root = _mailbox_root(app)
        simulate_mailbox(root, seed=3, as_of=AS_OF, payers=payer_rules_from_config(app.config))
        (root / "outbound" / "000000_broken.x12").write_text("ISA*00*this is not a whole interchange~")
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)
        ingest = steps[4].counts or {}
        assert run.status == "failed" and ingest["files_failed"] == 1 and ingest["files_processed"] >= 3
        with app.transaction() as s:
            failed = s.scalars(select(File).where(File.state == "failed")).all()
            assert [f.name for f in failed] == ["000000_broken.x12"]
            assert failed[0].error and "ISA" in failed[0].error


class TestLock:
    def test_second_run_exits_while_one_is_running(self, app: App, tmp_path: Path) -> None:
        """While a run holds the lock, `edi run` in another process exits 1 saying so and does nothing."""
        cfg = app.config.path
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
        env["EDI_DATABASE_URL"] = app.config.database_url
        with run_lock(app.config, app.uow):
            proc = subprocess.run([EDI, "--config", str(cfg), "run"], env=env, capture_output=True, text=True,
                                  timeout=120)
        assert proc.returncode == 1, proc.stderr
        assert "another `edi run` is in progress" in proc.stderr
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Run)) == 0


@pytest.fixture
def sftp_app(tmp_path: Path, sqlite_url: str, sshd_server: SshdServer) -> App:
    """An App whose mailbox is the test sshd's chrooted folder over SFTP."""
    for entry in sshd_server.mailbox_dir.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for folder in ("inbound", "outbound"):
        (sshd_server.mailbox_dir / folder).mkdir()
    cfg_dir = tmp_path / "practice"
    cfg_dir.mkdir()
    shutil.copy(FIXTURES / "edi.toml", cfg_dir / "edi.toml")
    config = load_config(cfg_dir / "edi.toml", env={
        "EDI_DATABASE_URL": sqlite_url, "EDI_TRANSPORT_URL": sshd_server.url,
        "EDI_TRANSPORT_KNOWN_HOSTS": str(sshd_server.known_hosts),
        "EDI_TRANSPORT_PRIVATE_KEY": str(sshd_server.user_key)})
    return App(config)


class TestOverSftp:
    def test_nightly_loop_over_a_real_sshd(self, sftp_app: App, sshd_server: SshdServer) -> None:
        """Files go up over SFTP, answers come down over SFTP, are archived remotely and posted."""
        app = _load(sftp_app)
        run, _ = nightly_run(app.config, app.uow, as_of=app.as_of)
        assert run.status == "ok"
        sent = sorted(p.name for p in (sshd_server.mailbox_dir / "inbound").iterdir() if p.is_file())
        assert len(sent) == 2 and all(n.endswith(".x12") for n in sent)
        simulate_mailbox(sshd_server.mailbox_dir, seed=3, as_of=AS_OF, payers=payer_rules_from_config(app.config))
        answers = sorted(p.name for p in (sshd_server.mailbox_dir / "outbound").iterdir() if p.is_file())
        run, steps = nightly_run(app.config, app.uow, as_of=app.as_of)
        assert run.status == "ok" and (steps[4].counts or {})["files_processed"] == len(answers)
        assert not [p for p in (sshd_server.mailbox_dir / "outbound").iterdir() if p.is_file()]
        assert sorted(p.name for p in (sshd_server.mailbox_dir / "outbound" / "archive").iterdir()) == answers
        with app.transaction() as s:
            assert s.scalar(select(func.count()).select_from(Claim).where(Claim.status == "paid")) > 0
        app.close()
