"""`edi replay`: a failed inbound file processed again after review, an outbound file sent again."""

from __future__ import annotations

from tests.e2e.conftest import FIXTURES, Cli


class TestReplay:
    def test_unbalanced_835_fails_then_posts_when_forced(self, cli: Cli) -> None:
        """An unbalanced 835 is stored failed with its reason; replay refuses it again, --force posts it once."""
        cli("init")
        res = cli("ingest", "--json", str(FIXTURES / "835" / "unbalanced.x12"), check=1).json()
        (file_id,) = res["failed"]
        shown = cli("files", "show", str(file_id), "--json").json()
        assert shown["state"] == "failed" and "balance" in shown["error"].lower()
        assert [f["file_id"] for f in cli("files", "list", "--status", "failed", "--json").json()["files"]] == [file_id]
        assert cli("replay", str(file_id), "--json", check=1).json()["state"] == "failed"
        forced = cli("replay", str(file_id), "--force", "--json").json()
        assert forced["state"] == "processed"
        assert cli("files", "show", str(file_id), "--json").json()["error"] is None
        again = cli("replay", str(file_id), check=2)
        assert "processed already" in again.stderr

    def test_outbound_file_is_sent_again(self, cli: Cli) -> None:
        """A sent file the clearinghouse lost is put back in the upload folder, byte for byte."""
        cli("init")
        cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
        cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))
        cli("--as-of", "2026-06-15", "claims", "submit")
        files = cli("files", "list", "--json").json()["files"]
        (sent,) = [f for f in files if f["kind"] == "837P"]
        uploaded = cli.folder / "var" / "mailbox" / "inbound" / sent["name"]
        original = uploaded.read_bytes()
        uploaded.unlink()
        assert cli("replay", str(sent["file_id"]), "--json").json()["state"] == "sent"
        assert uploaded.read_bytes() == original
