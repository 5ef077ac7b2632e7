"""The audit trail (`edi audit list`): who changed money or sent PHI, on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import json
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AuditEvent
from pipelines.cli.app import App
from pipelines.usecases import audit
from pipelines.usecases.audit import list_audit, record_audit
from pipelines.usecases.deposits import import_deposits
from tests.integration.test_deposits import GOOD, add_835, write_csv


class TestRecord:
    def test_an_event_keeps_time_user_host_action_subject_and_what_changed(self, app: App,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(getpass, "getuser", lambda: "billing1")
        before = datetime.now(UTC)
        with app.transaction() as s:
            record_audit(s, "replay", "file 12", {"state": "processed", "remittances_posted": 1,
                                                  "amount": "245.00"}, forced=True)
        (event,) = list_audit(app.uow)
        assert {k: v for k, v in event.items() if k not in ("id", "at")} == {
            "os_user": "billing1", "host": socket.gethostname(), "action": "replay", "subject": "file 12",
            "forced": True, "detail": {"state": "processed", "remittances_posted": 1, "amount": "245.00"}}
        at = datetime.fromisoformat(event["at"])
        assert at.tzinfo is not None and before <= at <= datetime.now(UTC)

    def test_the_event_rolls_back_with_the_change_it_records(self, app: App) -> None:
        with pytest.raises(RuntimeError), app.transaction() as s:
            record_audit(s, "resubmit", "claim C000123", {"frequency_code": "7"})
            raise RuntimeError("the change failed")
        assert list_audit(app.uow) == []

    def test_newest_first_and_limit(self, app: App) -> None:
        for n in range(3):
            with app.transaction() as s:
                record_audit(s, "codes_import", f"carc list {n}", {"codes": n})
        assert [e["subject"] for e in list_audit(app.uow)] == ["carc list 2", "carc list 1", "carc list 0"]
        assert [e["subject"] for e in list_audit(app.uow, limit=2)] == ["carc list 2", "carc list 1"]
        assert all(e["forced"] is False for e in list_audit(app.uow))

    def test_user_falls_back_when_the_os_has_no_name_for_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_name() -> str:
            raise OSError("No username set in the environment")

        monkeypatch.setattr(getpass, "getuser", no_name)
        assert audit.os_user().startswith("uid:")


class TestDepositImportIsAudited:
    def test_an_import_records_counts_ids_and_amounts(self, app: App, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(getpass, "getuser", lambda: "billing1")
        rid = add_835(app, "EFT0000600", "245.00")
        path = write_csv(tmp_path, GOOD + "2026-11-22,oops,EFT1\n")
        import_deposits(app.uow, path)
        (event,) = list_audit(app.uow)
        assert (event["action"], event["subject"], event["os_user"], event["forced"]) == (
            "deposits_import", "deposit file deposits.csv", "billing1", False)
        assert event["detail"] == {"file": "deposits.csv", "lines": 3, "inserted": 2, "inserted_amount": "1525.50",
                                   "duplicates": 0, "rejected": 1, "deposit_ids": [1, 2],
                                   "matched": {"1": rid}}

    def test_an_import_that_changed_nothing_records_nothing(self, app: App, tmp_path: Path) -> None:
        path = write_csv(tmp_path, GOOD)
        import_deposits(app.uow, path)
        import_deposits(app.uow, path)
        import_deposits(app.uow, write_csv(tmp_path, "date,amount,reference\n2026-11-20,x,T\n", name="bad.csv"))
        with app.transaction() as s:
            assert s.scalar(select(func.count(AuditEvent.id))) == 1

    def test_the_detail_is_plain_json(self, app: App, tmp_path: Path) -> None:
        import_deposits(app.uow, write_csv(tmp_path, GOOD))
        (event,) = list_audit(app.uow)
        assert json.loads(json.dumps(event)) == event
