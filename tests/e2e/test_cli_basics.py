"""The `edi` command's basics: init, inspect, exit codes and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import FIXTURES, Cli

TA1 = ("ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*SUNRISE01      *261127*1200*^*00501*"
       "000000077*0*T*:~TA1*000000005*261126*1200*R*022~IEA*0*000000077~")


class TestInit:
    def test_init_creates_the_schema_and_is_idempotent(self, cli: Cli) -> None:
        """`edi init` creates the SQLite database, and a second run changes nothing and succeeds."""
        cli("init")
        assert (cli.folder / "var" / "edi.db").exists()
        assert cli("init", "--json").json()["schema"] == "head"

    def test_missing_config_is_a_usage_error(self, tmp_path: Path, cli: Cli) -> None:
        """Without a config file the command exits 2 and says where it looked."""
        res = cli("--config", str(tmp_path / "nope.toml"), "init", check=2)
        assert "nope.toml" in res.stderr and "not found" in res.stderr

    def test_bad_key_is_named(self, cli: Cli) -> None:
        """A config with a bad billing NPI exits 2 naming the key."""
        cfg = cli.folder / "edi.toml"
        cfg.write_text(cfg.read_text().replace('billing_npi = "1234567893"', 'billing_npi = "1234567890"'))
        res = cli("init", check=2)
        assert "billing_npi" in res.stderr and "check digit" in res.stderr

    def test_env_override(self, cli: Cli, tmp_path: Path) -> None:
        """EDI_DATABASE_URL overrides [database] url."""
        cli.env["EDI_DATABASE_URL"] = f"sqlite:///{tmp_path / 'other.db'}"
        cli("init")
        assert (tmp_path / "other.db").exists()


class TestInspect:
    def test_inspect_needs_no_config(self, tmp_path: Path, cli: Cli) -> None:
        """`edi inspect` works in a folder with no config and no database."""
        f = tmp_path / "ta1.x12"
        f.write_text(TA1)
        (cli.folder / "edi.toml").unlink()
        doc = cli("inspect", str(f), "--json").json()
        isa = doc["interchanges"][0]
        assert (isa["sender"], isa["receiver"], isa["control_number"]) == ("CLEARHOUSE", "SUNRISE01", "000000077")
        assert isa["groups"] == []
        assert isa["ta1"][0]["code"] == "R" and isa["ta1"][0]["note_code"] == "022"

    def test_broken_envelope_points_at_the_segment(self, tmp_path: Path, cli: Cli) -> None:
        """A wrong IEA control number exits 1 with the segment number and element in the message."""
        f = tmp_path / "bad.x12"
        f.write_text(TA1.replace("IEA*0*000000077", "IEA*0*000000078"))
        res = cli("inspect", str(f), check=1)
        assert "segment 3" in res.stderr and "IEA02" in res.stderr

    def test_lenient_inspect_lists_findings(self, tmp_path: Path, cli: Cli) -> None:
        """With --lenient the mismatch is a finding in the JSON and the exit code is 1."""
        f = tmp_path / "bad.x12"
        f.write_text(TA1.replace("IEA*0*000000077", "IEA*0*000000078"))
        doc = cli("inspect", str(f), "--json", "--lenient", check=1).json()
        assert any("IEA02" in x for x in doc["findings"])

    @pytest.mark.parametrize("path", ["837p/dual_diagnosis_multi_line.x12", "270/subscribers_and_dependent.x12",
                                      "276/subscriber_and_dependent.x12"])
    def test_inspect_prints_our_outbound_sets(self, cli: Cli, path: str) -> None:
        """`edi inspect --json` of an 837P, 270 or 276 prints the parsed claims or inquiries (the expected JSON)."""
        f = FIXTURES / path
        expected = json.loads(f.with_name(f.stem + ".expected.json").read_text())
        assert cli("inspect", str(f), "--json").json() == expected

    def test_unknown_command_is_exit_2(self, cli: Cli) -> None:
        """An unknown subcommand is a usage error."""
        cli("frobnicate", check=2)


class TestValidate:
    def test_a_built_837p_is_valid(self, cli: Cli) -> None:
        """`edi validate` on a fixture 837P says valid and exits 0."""
        doc = cli("validate", "--json", str(FIXTURES / "837p" / "dual_diagnosis_multi_line.x12")).json()
        assert (doc["valid"], doc["errors"]) == (True, [])

    def test_errors_name_segment_loop_and_element(self, cli: Cli, tmp_path: Path) -> None:
        """A bad code is reported with its segment number, id, loop and element, and the exit code is 1."""
        text = (FIXTURES / "837p" / "dual_diagnosis_multi_line.x12").read_text().replace("NM1*85*2", "NM1*85*7")
        bad = tmp_path / "bad.x12"
        bad.write_text(text)
        doc = cli("validate", "--json", str(bad), check=1).json()
        assert doc["valid"] is False
        assert [(e["segment_id"], e["loop_id"], e["element"]) for e in doc["errors"]] == [("NM1", "2010AA", 2)]
        segments = [s.strip() for s in text.split("~")]
        assert doc["errors"][0]["segment_number"] == segments.index(
            next(s for s in segments if s.startswith("NM1*85*7"))) + 1  # counted in the file, ISA = 1
