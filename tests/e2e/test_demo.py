"""`edi demo` end to end: a fresh folder, the nightly run against the simulator, a summary that matches the data."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import EDI, Result

AS_OF = "2026-06-01"
SEQUENCES = {"P": "primary", "S": "secondary", "T": "tertiary"}


def edi(cwd: Path, *args: str, timeout: float = 300) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
    proc = subprocess.run([EDI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """One demo run: its folder, its --json summary and `edi claims export --json` in that folder."""
    work = tmp_path_factory.mktemp("demo")
    res = edi(work, "demo", "--dir", "tour", "--seed", "7", "--as-of", AS_OF, "--json")
    assert res.code == 0, f"edi demo exited {res.code}\n{res.stdout}\n{res.stderr}"
    folder = work / "tour"
    export = edi(folder, "claims", "export", "--json")
    assert export.code == 0, export.stderr
    return folder, res.json(), export.json()


def _money(text: str) -> Decimal:
    return Decimal(text)


class TestDemo:
    def test_folder_is_a_practice(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """The demo folder holds its config, sample inputs and SQLite database, usable by other commands."""
        folder, _summary, _export = demo
        for name in ("edi.toml", "encounters.csv", "authorizations.csv", "var/edi.db"):
            assert (folder / name).is_file(), name
        assert edi(folder, "denials", "list", "--json").code == 0

    def test_claim_counts_match_the_database(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Claims coded, held, sent, rejected, paid and denied in the summary are the claims export's counts;
        one primary claim per encounter, and every leg that was sent or crossed over got its answer."""
        _folder, summary, export = demo
        claims = export["claims"]
        status = Counter(c["status"] for c in claims)
        s = summary["claims"]
        primary = [c for c in claims if c["payer_sequence"] == "P"]
        assert s["coded"] == len(claims)
        assert len(primary) == len({c["encounter_ids"][0] for c in primary}) == summary["imported"]["encounters"]
        assert s["held"] == status["held"] + status["ready"]
        assert s["sent"] == len(claims) - s["held"] - s["crossed_over"]
        for key in ("rejected", "paid", "denied", "patient_responsibility"):
            assert s[key] == status[key], key
        assert s["not_acknowledged"] == status["submitted"] == 0
        assert s["awaiting_payment"] == status["accepted"] + status["crossed_over"] == 0
        assert s["crossed_over"] == summary["simulator"]["counts"]["claims_forwarded"] > 0

    def test_money_by_payer_sequence(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Secondary and tertiary claims follow the primary ones (each naming its prior claim); the summary's
        claims and paid dollars per payer sequence, and what the later payers recovered, are the export's."""
        _folder, summary, export = demo
        claims = export["claims"]
        by_id = {c["claim_id"]: c for c in claims}
        seq = summary["by_payer_sequence"]
        for code, label in SEQUENCES.items():
            legs = [c for c in claims if c["payer_sequence"] == code]
            assert seq[label]["claims"] == len(legs) > 0, label
            assert _money(seq[label]["paid"]) == sum((_money(c["paid"]) for c in legs), Decimal("0")) > 0, label
        for c in claims:
            prior = by_id.get(c["prior_claim_id"] or "")
            assert (prior is None) == (c["payer_sequence"] == "P"), c["claim_id"]
            if prior is not None:
                assert prior["encounter_ids"] == c["encounter_ids"] and prior["payer_id"] != c["payer_id"]
                assert "PST".index(prior["payer_sequence"]) + 1 == "PST".index(c["payer_sequence"])
        d = summary["dollars"]
        assert d["recovered_from_secondary"] == seq["secondary"]["paid"]
        assert d["recovered_from_tertiary"] == seq["tertiary"]["paid"]
        assert d["billed"] == seq["primary"]["billed"]  # each service billed once, whatever the chain
        assert sum((_money(x["paid"]) for x in seq.values()), Decimal("0")) == _money(d["paid"])
        assert seq["primary"]["crossed_over"] == 0 < seq["secondary"]["crossed_over"]

    def test_hold_reasons_match(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Held claims are counted per reason as the export lists them, and the sample's defects all show."""
        _folder, summary, export = demo
        reasons = Counter(r for c in export["claims"] if c["status"] in ("held", "ready") for r in c["hold_reasons"])
        assert summary["hold_reasons"] == dict(reasons)
        assert {"MEMBER_ID_MISSING", "AUTH_EXPIRED", "TIME_BELOW_MINIMUM", "NPI_INVALID", "DX_INVALID",
                "DX_EXCLUDES1", "DX_NOT_SUPPORTING", "DUPLICATE_SESSION", "VISIT_LIMIT_REACHED"} <= set(reasons)

    def test_denials_match(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Denials per CARC are the export's adjustments other than PR and CO 45, and the payer rules all fire."""
        _folder, summary, export = demo
        expected: Counter[tuple[str, str]] = Counter()
        amounts: dict[tuple[str, str], Decimal] = {}
        for c in export["claims"]:
            for a in c["adjustments"] + [a for ln in c["lines"] for a in ln["adjustments"]]:
                key = (a["group"], a["reason"])
                if a["group"] == "PR" or key in (("CO", "45"), ("OA", "23")):
                    continue
                expected[key] += 1
                amounts[key] = amounts.get(key, Decimal("0")) + _money(a["amount"])
        got = {(d["group"], d["reason"]): d for d in summary["denials"]}
        assert {k: d["adjustments"] for k, d in got.items()} == dict(expected)
        assert {k: _money(d["amount"]) for k, d in got.items()} == amounts
        assert {("CO", "197"), ("CO", "119"), ("OA", "18")} <= set(got)
        assert all(d["description"] for d in summary["denials"])

    def test_dollars_match(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Billed (primary claims sent), paid (by every payer) and what patients owe after the last payer are
        the sums over the exported claims."""
        _folder, summary, export = demo
        claims = export["claims"]
        primary_sent = [c for c in claims if c["payer_sequence"] == "P" and c["status"] not in ("held", "ready")]
        d = summary["dollars"]
        assert _money(summary["by_payer_sequence"]["primary"]["billed"]) == sum(
            (_money(c["billed"]) for c in primary_sent), Decimal("0"))
        assert _money(d["paid"]) == sum((_money(c["paid"]) for c in claims), Decimal("0")) > 0
        balances = {c["encounter_ids"][0]: _money(c["patient_balance"]) for c in claims}
        assert _money(d["patient_responsibility"]) == sum(balances.values(), Decimal("0")) > 0
        assert _money(d["patient_responsibility"]) < sum((_money(c["patient_responsibility"]) for c in claims),
                                                         Decimal("0"))  # later payers took some of it

    def test_rejected_claim_is_the_bad_member_id(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """The one claim rejected by the payer front end is the encounter with a member id too short to match."""
        _folder, summary, export = demo
        rejected = [c for c in export["claims"] if c["status"] == "rejected"]
        assert [c["claim_id"] for c in rejected] == [r["claim_id"] for r in summary["rejections"]]
        assert [c["patient_id"] for c in rejected] == ["P-2019"]

    def test_runs_all_ok(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """The nights (primary claims sent, answered and posted, then the next legs, then one with nothing left
        to do) run three days apart from --as-of, all ok, and every received file was processed."""
        _folder, summary, _export = demo
        runs = summary["runs"]
        assert 4 <= len(runs) < 8 and all(r["status"] == "ok" for r in runs)  # 8: MAX_NIGHTS, stopped early
        first = date.fromisoformat(AS_OF)
        assert [r["as_of"] for r in runs] == [(first + timedelta(days=3 * n)).isoformat() for n in range(len(runs))]
        assert summary["files"]["failed"] == 0 and summary["files"]["received"] > 0

    def test_rerun_starts_fresh_and_repeats(self, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Running the demo again in the same folder says it starts fresh and gives the same numbers."""
        folder, summary, _export = demo
        again = edi(folder.parent, "demo", "--dir", "tour", "--seed", "7", "--as-of", AS_OF, "--json")
        assert again.code == 0, again.stderr
        assert "starting fresh" in again.stderr
        second = again.json()
        for key in ("claims", "hold_reasons", "denials", "dollars", "by_payer_sequence"):
            assert second[key] == summary[key], key

    def test_human_summary(self, tmp_path: Path, demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
        """Without --json the summary is text naming holds, denials with descriptions, dollars, the money the
        secondary and tertiary payers recovered, and what to run next."""
        res = edi(tmp_path, "demo", "--dir", "d", "--seed", "7", "--as-of", AS_OF)
        assert res.code == 0, res.stderr
        out = res.stdout
        d = demo[1]["dollars"]
        for text in ("held", "AUTH_EXPIRED", "CO 197", "Dollars:", "edi claims list", "edi denials list",
                     "edi report", "By payer in the chain:",
                     f"recovered from secondary payers: ${Decimal(d['recovered_from_secondary']):,.2f}",
                     f"recovered from tertiary payers: ${Decimal(d['recovered_from_tertiary']):,.2f}"):
            assert text in out, text
        assert not out.lstrip().startswith("{")
        with pytest.raises(json.JSONDecodeError):
            json.loads(out)

    def test_refuses_a_real_practice_folder(self, tmp_path: Path) -> None:
        """A folder holding a practice the demo did not make is refused with exit 2 and left untouched."""
        practice = tmp_path / "practice"
        (practice / "var").mkdir(parents=True)
        (practice / "var" / "keep.txt").write_text("data", encoding="utf-8")
        (practice / "edi.toml").write_text("# mine\n", encoding="utf-8")
        res = edi(tmp_path, "demo", "--dir", "practice", "--as-of", AS_OF)
        assert res.code == 2
        assert "not an edi demo" in res.stderr
        assert (practice / "var" / "keep.txt").read_text(encoding="utf-8") == "data"
        assert (practice / "edi.toml").read_text(encoding="utf-8") == "# mine\n"


class TestSimulateCommand:
    def test_answers_a_mailbox(self, tmp_path: Path) -> None:
        """`edi simulate ROOT --json` answers the upload folder into the download folder and says what it wrote."""
        fixtures = Path(__file__).resolve().parents[2] / "fixtures"
        (tmp_path / "mb" / "inbound").mkdir(parents=True)
        for src in (fixtures / "837p" / "single_claim_self_subscriber.x12", fixtures / "270" / "single_subscriber.x12"):
            (tmp_path / "mb" / "inbound" / src.name).write_bytes(src.read_bytes())
        res = edi(tmp_path, "--config", "none.toml", "simulate", "mb", "--seed", "3", "--as-of", "2026-11-10",
                  "--json")
        assert res.code == 0, res.stderr
        out = res.json()
        assert sorted(out["answered"]) == ["single_claim_self_subscriber.x12", "single_subscriber.x12"]
        assert sorted(p.name for p in (tmp_path / "mb" / "outbound").iterdir()) == sorted(out["written"])
        assert {n.split("_")[1] for n in out["written"]} == {"999", "277CA", "835", "271"}

    def test_answers_one_file_from_its_upload_folder(self, tmp_path: Path) -> None:
        """Given a file in a mailbox's upload folder, only that file is answered, into that mailbox."""
        fixtures = Path(__file__).resolve().parents[2] / "fixtures"
        inbound = tmp_path / "mb" / "inbound"
        inbound.mkdir(parents=True)
        for src in (fixtures / "270" / "single_subscriber.x12", fixtures / "276" / "subscriber_and_dependent.x12"):
            (inbound / src.name).write_bytes(src.read_bytes())
        res = edi(tmp_path, "--config", "none.toml", "simulate", "mb/inbound/single_subscriber.x12", "--json")
        assert res.code == 0, res.stderr
        assert res.json()["answered"] == ["single_subscriber.x12"]
        assert (inbound / "subscriber_and_dependent.x12").is_file()
        assert {p.name.split("_")[1] for p in (tmp_path / "mb" / "outbound").iterdir()} == {"999", "271"}
