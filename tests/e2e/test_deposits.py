"""`edi deposits import/list` and `edi audit list` through the real command, with 835s posted by `edi ingest`."""

from __future__ import annotations

from tests.e2e.conftest import FIXTURES, Cli

DEPOSITS = ("date,amount,reference\n"
            "2026-11-20,245.00,0EFT0000600\n"     # crossover.x12: BPR 245.00, TRN02 EFT0000600
            "2026-11-21,\"$1,280.50\",EFT0009999\n"  # no 835 for this one
            "2026-11-22,ten dollars,EFT0000400\n")  # a bad line: named, the rest go on


class TestDeposits:
    def test_deposits_are_matched_to_posted_835s_and_the_import_is_audited(self, cli: Cli) -> None:
        cli("init")
        for name in ("crossover", "split_claim", "denial_co197"):
            cli("ingest", str(FIXTURES / "835" / f"{name}.x12"))
        csv = cli.folder / "bank.csv"
        csv.write_text(DEPOSITS)

        res = cli("deposits", "import", str(csv), check=1)
        assert "bank.csv: line 4: amount 'ten dollars' is not an amount" in res.stderr
        assert "2 deposit(s) added ($1,525.50)" in res.stdout and "1 deposit(s) matched" in res.stdout

        again = cli("deposits", "import", "--json", str(csv), check=1).json()
        assert (again["inserted"], again["duplicates"], again["rejected"]) == (0, 2, 1)

        data = cli("deposits", "list", "--unmatched", "--json").json()
        assert [d["reference"] for d in data["deposits"]] == ["EFT0009999"]
        # split_claim (280.00, EFT0000400) has no deposit; denial_co197 moved no money and is not listed
        assert [(e["trace_number"], e["amount"]) for e in data["eras_without_deposit"]] == [("EFT0000400", "280.00")]

        table = cli("deposits", "list").stdout
        assert "  $245.00" in table and "$1,280.50" in table and "no 835" in table and "$280.00" in table

        events = cli("audit", "list", "--json").json()["events"]
        assert [(e["action"], e["subject"], e["detail"]["inserted"]) for e in events] == [
            ("deposits_import", "deposit file bank.csv", 2)]
        assert "deposits_import" in cli("audit", "list").stdout

    def test_a_file_without_the_columns_is_a_usage_error(self, cli: Cli) -> None:
        cli("init")
        csv = cli.folder / "bank.csv"
        csv.write_text("when,how much\n2026-11-20,1.00\n")
        res = cli("deposits", "import", str(csv), check=2)
        assert "required columns missing: date, amount, reference" in res.stderr
        assert cli("deposits", "list", "--json").json()["totals"]["deposits"] == 0
