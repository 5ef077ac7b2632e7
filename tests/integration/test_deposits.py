"""Bank deposits matched to 835s (`edi deposits import` / `edi deposits list`), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Deposit, File, Remittance
from pipelines.cli.app import App
from pipelines.errors import InputError
from pipelines.usecases.deposits import import_deposits, list_deposits

D = Decimal


def add_835(app: App, trace: str, amount: str, *, payer: str = "60054", paid_on: date | None = date(2026, 11, 18),
            method: str = "ACH") -> int:
    """A posted 835 (file ledger row and remittance) as posting leaves it; returns the remittance id."""
    with app.transaction() as s:
        f = File(name=f"{trace}.835", direction="in", kind="835", sha256="0" * 64, size=1, state="processed")
        s.add(f)
        s.flush()
        r = Remittance(file_id=f.id, st_control="0001", payer_key=payer, payer_name="AETNA", trace_number=trace,
                       amount=D(amount), method=method, payment_date=paid_on, balanced=True, balance_errors=[])
        s.add(r)
        s.flush()
        return r.id


def write_csv(tmp_path: Path, body: str, name: str = "deposits.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def stored(app: App) -> list[tuple[date, Decimal, str, str, int | None]]:
    with app.transaction() as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(Deposit.deposit_date, Deposit.amount, Deposit.reference, Deposit.trace_number,
                   Deposit.remittance_id).order_by(Deposit.id))]


GOOD = ("date,amount,reference\n"
        "2026-11-20,245.00,0000EFT0000600\n"
        "11/21/2026,\"$1,280.50\",eft0000400\n")


class TestImport:
    def test_lines_are_stored_and_matched_by_trace_and_amount(self, app: App, tmp_path: Path) -> None:
        """Each line becomes a deposit; the one whose trace (normalized) and amount are an 835's is matched."""
        r600 = add_835(app, "EFT0000600", "245.00")
        add_835(app, "EFT0000400", "1280.00")  # same trace, another amount: not this deposit
        result = import_deposits(app.uow, write_csv(tmp_path, GOOD))
        assert (result.lines, result.inserted, result.duplicates, result.matched, result.errors) == (2, 2, 0, 1, [])
        assert result.inserted_amount == D("1525.50")
        assert stored(app) == [(date(2026, 11, 20), D("245.00"), "0000EFT0000600", "EFT0000600", r600),
                               (date(2026, 11, 21), D("1280.50"), "eft0000400", "EFT0000400", None)]

    def test_a_bad_line_is_a_row_error_naming_line_and_field_and_the_rest_go_on(self, app: App,
                                                                                 tmp_path: Path) -> None:
        body = ("date,amount,reference\n"
                "2026-11-20,245.00,EFT1\n"
                "2026-11-31,10.00,EFT2\n"
                "\n"
                "2026-11-22,12.345,\n"
                "2026-11-23,1,234.00,EFT3\n"
                "2026-11-24,\"multi\nline\",EFT4\n"
                "2026-11-25,0.00,EFT5\n"
                "2026-11-26,99.99,EFT6\n")
        result = import_deposits(app.uow, write_csv(tmp_path, body))
        assert [(e["line"], e["fields"]) for e in result.errors] == [
            (3, ["date"]), (5, ["amount", "reference"]), (6, ["line"]), (7, ["amount"]), (9, ["amount"])]
        assert "more than two decimals" in result.errors[1]["problems"][0]
        assert "more fields than the header" in result.errors[2]["problems"][0]
        assert result.inserted == 2 and result.as_dict()["rejected"] == 5
        assert [row[2] for row in stored(app)] == ["EFT1", "EFT6"]

    def test_importing_the_same_file_twice_changes_nothing(self, app: App, tmp_path: Path) -> None:
        add_835(app, "EFT0000600", "245.00")
        path = write_csv(tmp_path, GOOD)
        import_deposits(app.uow, path)
        before = stored(app)
        again = import_deposits(app.uow, path)
        assert (again.inserted, again.duplicates, again.matched, again.inserted_amount) == (0, 2, 0, D("0.00"))
        assert stored(app) == before
        with app.transaction() as s:
            assert s.scalar(select(func.count(AuditEvent.id))) == 1

    def test_a_line_repeated_in_the_file_or_padded_differently_is_one_deposit(self, app: App,
                                                                              tmp_path: Path) -> None:
        body = "date,amount,reference\n2026-11-20,245.00,EFT9\n2026-11-20,245,  0eft9 \n"
        result = import_deposits(app.uow, write_csv(tmp_path, body))
        assert (result.inserted, result.duplicates) == (1, 1)
        assert len(stored(app)) == 1

    def test_columns_in_any_order_extra_ones_ignored(self, app: App, tmp_path: Path) -> None:
        body = "Reference,Memo,Amount,Date\nEFT1,ach credit,10.00,2026-11-20\n"
        result = import_deposits(app.uow, write_csv(tmp_path, body))
        assert result.inserted == 1 and result.ignored_columns == ["memo"]

    @pytest.mark.parametrize(("body", "message"), [
        ("day,amount,reference\n2026-11-20,1.00,T\n", "required columns missing: date"),
        ("", "the file is empty"),
        (b"date,amount,reference\n2026-11-20,1.00,\xff\n", "not UTF-8"),
    ])
    def test_an_unusable_file_stores_nothing(self, app: App, tmp_path: Path, body: str | bytes,
                                             message: str) -> None:
        path = tmp_path / "bad.csv"
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
        with pytest.raises(InputError, match=message):
            import_deposits(app.uow, path)
        assert stored(app) == []

    def test_a_missing_file_is_an_input_error(self, app: App, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="cannot be read"):
            import_deposits(app.uow, tmp_path / "nope.csv")


class TestMatchingLater:
    def test_a_deposit_that_came_before_its_835_is_matched_when_listed(self, app: App, tmp_path: Path) -> None:
        import_deposits(app.uow, write_csv(tmp_path, GOOD))
        assert list_deposits(app.uow, unmatched_only=True)["totals"]["deposits_without_era"] == 2
        rid = add_835(app, "EFT0000400", "1280.50")
        listed = list_deposits(app.uow, unmatched_only=False)
        (era,) = [d["era"] for d in listed["deposits"] if d["era"]]
        assert era["remittance_id"] == rid and era["amount"] == "1280.50"
        assert stored(app)[1][4] == rid

    def test_a_later_import_matches_earlier_deposits_too(self, app: App, tmp_path: Path) -> None:
        import_deposits(app.uow, write_csv(tmp_path, GOOD))
        add_835(app, "EFT0000600", "245.00")
        result = import_deposits(app.uow, write_csv(tmp_path, "date,amount,reference\n", name="empty.csv"))
        assert (result.inserted, result.matched) == (0, 1)

    def test_one_835_is_paid_by_one_deposit(self, app: App, tmp_path: Path) -> None:
        rid = add_835(app, "EFT7", "50.00")
        body = "date,amount,reference\n2026-11-21,50.00,EFT7\n2026-11-20,50.00,EFT7\n"
        import_deposits(app.uow, write_csv(tmp_path, body))
        assert [(row[0], row[4]) for row in stored(app)] == [(date(2026, 11, 21), None), (date(2026, 11, 20), rid)]


class TestList:
    def test_unmatched_lists_deposits_without_an_835_and_835s_without_a_deposit(self, app: App,
                                                                                 tmp_path: Path) -> None:
        add_835(app, "EFT0000600", "245.00")
        lone = add_835(app, "EFT0000777", "99.10", paid_on=None, method="CHK")
        add_835(app, "NOPAY0000500", "0.00", method="NON")  # a notice, no money: expects no deposit
        import_deposits(app.uow, write_csv(tmp_path, GOOD))
        data = list_deposits(app.uow, unmatched_only=True)
        assert data["unmatched_only"] is True
        assert [(d["reference"], d["amount"], d["era"]) for d in data["deposits"]] == [("eft0000400", "1280.50", None)]
        assert [(e["remittance_id"], e["trace_number"], e["amount"], e["payment_date"], e["method"])
                for e in data["eras_without_deposit"]] == [(lone, "EFT0000777", "99.10", None, "CHK")]
        assert data["totals"] == {
            "deposits": 2, "deposited_amount": "1525.50", "matched": 1, "deposits_without_era": 1,
            "deposits_without_era_amount": "1280.50", "eras_without_deposit": 1,
            "eras_without_deposit_amount": "99.10"}

    def test_all_deposits_with_their_835(self, app: App, tmp_path: Path) -> None:
        rid = add_835(app, "EFT0000600", "245.00")
        import_deposits(app.uow, write_csv(tmp_path, GOOD))
        data = list_deposits(app.uow)
        assert [d["date"] for d in data["deposits"]] == ["2026-11-20", "2026-11-21"]
        first = data["deposits"][0]
        assert first["era"] == {"remittance_id": rid, "file_id": first["era"]["file_id"], "payer": "AETNA",
                                "trace_number": "EFT0000600", "payment_date": "2026-11-18", "method": "ACH",
                                "amount": "245.00"}
        assert (first["source_file"], first["source_line"]) == ("deposits.csv", 2)
        assert data["eras_without_deposit"] == []

    def test_nothing_yet(self, app: App) -> None:
        data = list_deposits(app.uow, unmatched_only=True)
        assert (data["deposits"], data["eras_without_deposit"]) == ([], [])
        assert data["totals"]["deposited_amount"] == "0.00"
