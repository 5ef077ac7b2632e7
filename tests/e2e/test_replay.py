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


def _answered(cli: Cli) -> tuple[dict[str, object], list[str]]:
    """Claims sent in one 837P, answered by the simulator: the 999, the 277CA (all accepted) and one payer's
    835 are ingested, so a few claims are paid and the rest accepted. Returns the file and the paid claims."""
    cli("init")
    cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
    cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))
    cli("--as-of", "2026-06-15", "claims", "submit")
    cli("simulate", "var/mailbox", "--seed", "5", "--as-of", "2026-06-20")
    answers = sorted((cli.folder / "var" / "mailbox" / "outbound").glob("*.x12"))
    chosen = [p for p in answers if "_999_" in p.name or "_277CA_" in p.name] + [
        p for p in answers if "_835_" in p.name][-1:]
    cli("ingest", *map(str, chosen))
    (sent,) = [f for f in cli("files", "list", "--json").json()["files"] if f["kind"] == "837P"]
    claims = cli("claims", "list", "--json").json()["claims"]
    paid = [c["claim_id"] for c in claims if c["status"] == "paid"]
    return sent, paid


class TestReplayOfAnAcceptedFile:
    def test_refused_without_force_then_force_resends_a_new_837p_without_the_adjudicated_claims(
            self, cli: Cli) -> None:
        """An accepted 837P is not sent again without --force (exit 2, naming what it would re-send); with
        --force a new 837P carries the claims not adjudicated, the paid ones are left out, and it is audited."""
        sent, paid = _answered(cli)
        assert sent["state"] == "accepted" and paid
        refused = cli("replay", str(sent["file_id"]), check=2)
        assert "--force" in refused.stderr and "was accepted" in refused.stderr
        assert "left out as adjudicated" in refused.stderr and paid[0] in refused.stderr
        assert len(list((cli.folder / "var" / "mailbox" / "inbound").glob("*.x12"))) == 0
        assert cli("audit", "list", "--json").json()["events"] == []

        accepted = [c["claim_id"] for c in cli("claims", "list", "--json").json()["claims"]
                    if c["status"] == "accepted"]
        res = cli("replay", str(sent["file_id"]), "--force", "--json").json()
        assert res["state"] == "sent" and res["sent_file_id"] != sent["file_id"]
        assert sorted(res["claims"]) == sorted(accepted)
        assert sorted(d["claim_id"] for d in res["left_out"]) == sorted(paid)
        new = cli("files", "show", str(res["sent_file_id"]), "--json").json()
        assert new["kind"] == "837P" and new["isa_control"] != sent["isa_control"]
        text = (cli.folder / "var" / "mailbox" / "inbound" / new["name"]).read_text("latin-1")
        assert all(f"CLM*{cid}*" in text for cid in accepted)
        assert not any(f"CLM*{cid}*" in text for cid in paid)
        statuses = {c["claim_id"]: c["status"] for c in cli("claims", "list", "--json").json()["claims"]}
        assert all(statuses[cid] == "accepted" for cid in accepted) and all(statuses[p] == "paid" for p in paid)
        (event,) = cli("audit", "list", "--json").json()["events"]
        assert (event["action"], event["subject"], event["forced"]) == ("replay", f"file {sent['file_id']}", True)
        detail = event["detail"]
        assert (detail["direction"], detail["kind"], detail["state"]) == ("out", "837P", "sent")
        assert sorted(detail["claims"]) == sorted(accepted) and detail["sent_file_id"] == res["sent_file_id"]

    def test_a_named_claim_is_resent_even_when_paid(self, cli: Cli) -> None:
        """--claim re-sends exactly the claims named, a paid one included; a claim not in the file is refused."""
        sent, paid = _answered(cli)
        res = cli("replay", str(sent["file_id"]), "--force", "--claim", paid[0], "--json").json()
        assert res["claims"] == [paid[0]] and res["state"] == "sent"
        name = cli("files", "show", str(res["sent_file_id"]), "--json").json()["name"]
        text = (cli.folder / "var" / "mailbox" / "inbound" / name).read_text("latin-1")
        assert text.count("CLM*") == 1 and f"CLM*{paid[0]}*" in text
        bad = cli("replay", str(sent["file_id"]), "--force", "--claim", "C999999", check=2)
        assert "C999999 is not in file" in bad.stderr

    def test_force_with_every_claim_adjudicated_sends_nothing(self, cli: Cli) -> None:
        """When every claim of the file is adjudicated, --force alone has nothing to send (exit 2)."""
        cli("init")
        cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
        cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))
        cli("--as-of", "2026-06-15", "claims", "submit")
        cli("simulate", "var/mailbox", "--seed", "5", "--as-of", "2026-06-20")
        cli("ingest")
        (sent,) = [f for f in cli("files", "list", "--json").json()["files"] if f["kind"] == "837P"]
        res = cli("replay", str(sent["file_id"]), "--force", check=2)
        assert "nothing to re-send" in res.stderr


class TestReplayIsAudited:
    def test_inbound_replay_records_direction_kind_state_counts_and_force(self, cli: Cli) -> None:
        """Each replay of an inbound file is an audit event; the forced one says so."""
        cli("init")
        (file_id,) = cli("ingest", "--json", str(FIXTURES / "835" / "unbalanced.x12"), check=1).json()["failed"]
        cli("replay", str(file_id), check=1)
        cli("replay", str(file_id), "--force")
        events = cli("audit", "list", "--json").json()["events"]
        assert [(e["action"], e["subject"], e["forced"], e["detail"]["state"]) for e in events] == [
            ("replay", f"file {file_id}", True, "processed"), ("replay", f"file {file_id}", False, "failed")]
        assert events[0]["detail"]["direction"] == "in" and events[0]["detail"]["kind"] == "835"
        assert events[0]["detail"]["counts"]["remittances_posted"] == 1

    def test_a_lost_file_resent_as_it_was_is_audited_with_its_claims(self, cli: Cli) -> None:
        """Sending a not-yet-acknowledged file again needs no --force, and the audit names the claims in it."""
        cli("init")
        cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
        cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))
        cli("--as-of", "2026-06-15", "claims", "submit")
        (sent,) = [f for f in cli("files", "list", "--json").json()["files"] if f["kind"] == "837P"]
        res = cli("replay", str(sent["file_id"]), "--json").json()
        assert res["sent_file_id"] == sent["file_id"] and len(res["claims"]) == 29
        (event,) = cli("audit", "list", "--json").json()["events"]
        assert event["forced"] is False and event["detail"]["claims"] == res["claims"]
        assert event["detail"]["new_file"] is False
