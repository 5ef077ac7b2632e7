"""The denial work queue, replacement claims and loaded code descriptions, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from models import Claim, Denial, File
from pipelines.cli.app import App
from pipelines.cli.claims import cmd_codes_import as cmd_import
from pipelines.cli.claims import cmd_denials_list as cmd_list
from pipelines.cli.claims import cmd_resubmit
from pipelines.errors import InputError, NotFound, UsageError
from pipelines.usecases.audit import list_audit
from pipelines.usecases.codes import describe
from pipelines.usecases.ingest import IngestResult, ingest_bytes
from pipelines.usecases.ledger import read_archived_bytes
from tests.integration.test_posting import LineSpec, add_claim, fixture, one

DENIED_LINE: list[LineSpec] = [("L000800", "90837", ("HO", "95"), "180.00")]


def denied_claim(app: App) -> None:
    """C000500 sent, then denied by the CO 197 fixture (payer claim number PCN50001)."""
    with app.transaction() as s:
        add_claim(s, "C000500", DENIED_LINE)
    ingest_bytes(app.config, app.uow, "denial.835", fixture("denial_co197").replace(b"HC:90837:95", b"HC:90837:HO:95"),
                 IngestResult())


def listed(app: App, state: str | None = None) -> list[dict[str, object]]:
    app.json, app.out = True, io.StringIO()
    assert cmd_list(app, argparse.Namespace(state=state)) == 0
    items: list[dict[str, object]] = json.loads(app.out.getvalue())["denials"]
    return items


class TestDenialsList:
    def test_json_shape(self, app: App) -> None:
        """`edi denials list --json` prints each open item with the contract's fields."""
        denied_claim(app)
        [item] = listed(app)
        assert {k: item[k] for k in ("claim_id", "line_control_number", "group", "reason", "remarks", "amount",
                                     "category", "action", "state")} == {
            "claim_id": "C000500", "line_control_number": "L000800", "group": "CO", "reason": "197",
            "remarks": ["N54"], "amount": "180.00", "category": "authorization",
            "action": "correct_and_resubmit", "state": "open"}
        assert "authorization" in str(item["description"]).lower()

    def test_state_filter(self, app: App) -> None:
        """Only open items by default; --state picks another state, all lists every item."""
        denied_claim(app)
        with app.transaction() as s:
            s.scalars(select(Denial)).one().state = "appealed"
        assert listed(app) == []
        assert [d["state"] for d in listed(app, "appealed")] == ["appealed"]
        assert len(listed(app, "all")) == 1

    def test_unknown_state_is_a_usage_error(self, app: App) -> None:
        """An unknown --state is refused."""
        with pytest.raises(UsageError):
            listed(app, "pending")


class TestResubmit:
    def test_replacement_claim_is_written_uploaded_and_denials_move(self, app: App) -> None:
        """Resubmit writes a frequency 7 claim with REF*F8, uploads it, and marks the denials resubmitted."""
        denied_claim(app)
        app.out = io.StringIO()
        assert cmd_resubmit(app, argparse.Namespace(claim_id="C000500")) == 0
        with app.transaction() as s:
            new = s.scalars(select(Claim).where(Claim.original_claim_id == "C000500")).one()
            assert (new.frequency_code, new.status, new.payer_claim_number) == ("7", "submitted", "PCN50001")
            assert [(ln.procedure, ln.modifiers) for ln in new.lines] == [("90837", ["HO", "95"])]
            f = s.get(File, new.file_id)
            assert f is not None and (f.kind, f.state) == ("837P", "sent")
            text = read_archived_bytes(f).decode("latin-1")
            assert s.scalars(select(Denial.state)).all() == ["resubmitted"]
        assert "REF*F8*PCN50001~" in text
        assert re.search(rf"CLM\*{new.claim_id}\*180\*\*\*02:B:7\*", text)
        upload = Path(app.config.transport.url[len("local:"):]) / app.config.transport.upload_dir / f.name
        assert upload.read_bytes() == text.encode("latin-1")
        assert one(app, "C000500").status == "denied"
        (event,) = list_audit(app.uow)
        assert (event["action"], event["subject"], event["forced"]) == ("resubmit", "claim C000500", False)
        assert event["detail"] == {"replacement_claim_id": new.claim_id, "file_id": f.id, "billed": "180.00",
                                   "frequency_code": "7"}

    def test_second_resubmit_is_refused(self, app: App) -> None:
        """A claim already replaced is not replaced again."""
        denied_claim(app)
        app.out = io.StringIO()
        cmd_resubmit(app, argparse.Namespace(claim_id="C000500"))
        with pytest.raises(UsageError, match="already resubmitted"):
            cmd_resubmit(app, argparse.Namespace(claim_id="C000500"))

    @pytest.mark.parametrize(("status", "payer_claim_number", "message"), [
        pytest.param("paid", "PCN1", "only a denied or rejected claim", id="refused_when_paid"),
        pytest.param("submitted", "PCN1", "only a denied or rejected claim", id="refused_when_submitted"),
        pytest.param("denied", None, "no payer claim number", id="refused_without_payer_claim_number"),
    ])
    def test_refusals(self, app: App, status: str, payer_claim_number: str | None, message: str) -> None:
        """A claim that is not denied/rejected, or has no payer claim number, is refused with a message."""
        with app.transaction() as s:
            c = add_claim(s, "C000777", DENIED_LINE, status=status)
            c.payer_claim_number = payer_claim_number
        with pytest.raises(UsageError, match=message):
            cmd_resubmit(app, argparse.Namespace(claim_id="C000777"))

    def test_unknown_claim(self, app: App) -> None:
        """An unknown claim id is NotFound."""
        with pytest.raises(NotFound):
            cmd_resubmit(app, argparse.Namespace(claim_id="C999999"))


class TestCodesImport:
    def test_loaded_description_wins_then_bundled_then_not_loaded(self, app: App, tmp_path: Path) -> None:
        """An imported CARC description replaces the bundled one; unknown codes say not loaded."""
        csv = tmp_path / "carc.csv"
        csv.write_text("code,description,start_date,stop_date,last_modified,notes\n"
                       "197,Operator text for 197,01/01/2020,,,\n999,A brand new code,,,,\n", encoding="utf-8")
        app.out = io.StringIO()
        assert cmd_import(app, argparse.Namespace(list_name="carc", file=str(csv))) == 0
        with app.transaction() as s:
            assert describe(s, "carc", "197") == "Operator text for 197"
            assert describe(s, "carc", "999") == "A brand new code"
            assert describe(s, "carc", "45").startswith("Charge exceeds")
            assert describe(s, "rarc", "N9999") == "description not loaded"
        denied_claim(app)
        assert listed(app)[0]["description"] == "Operator text for 197"

    def test_reimport_replaces_the_same_code(self, app: App, tmp_path: Path) -> None:
        """Importing a code again replaces its description."""
        csv = tmp_path / "rarc.csv"
        for text in ("first", "second"):
            csv.write_text(f"code,description\nN54,{text}\n", encoding="utf-8")
            cmd_import(app, argparse.Namespace(list_name="rarc", file=str(csv)))
        with app.transaction() as s:
            assert describe(s, "rarc", "N54") == "second"
        events = list_audit(app.uow)
        assert [(e["action"], e["subject"], e["detail"]) for e in events] == [
            ("codes_import", "rarc list rarc.csv", {"list": "rarc", "file": "rarc.csv", "codes": 1})] * 2

    def test_bad_file_is_an_input_error(self, app: App, tmp_path: Path) -> None:
        """A list without a description column is refused as a whole."""
        csv = tmp_path / "bad.csv"
        csv.write_text("code\n197\n", encoding="utf-8")
        with pytest.raises(InputError, match="description"):
            cmd_import(app, argparse.Namespace(list_name="carc", file=str(csv)))
