"""Denial categories and suggested actions from CARC (and RARC hints)."""

from __future__ import annotations

import pytest

from pipelines.rules.denials import ACTIONS, CARC_CATEGORIES, CATEGORIES, categorize


class TestCategorize:
    @pytest.mark.parametrize(("group", "reason", "remarks", "expected"), [
        *[pytest.param("CO", r, (), ("authorization", "correct_and_resubmit"), id=f"authorization_{r}")
          for r in ("197", "15", "62", "198")],
        *[pytest.param("CO", r, (), ("medical_necessity", "appeal"), id=f"medical_necessity_{r}")
          for r in ("50", "55", "56", "150")],
        *[pytest.param("CO", r, (), ("coding", "correct_and_resubmit"), id=f"coding_{r}")
          for r in ("4", "5", "6", "11", "181", "182", "189")],
        pytest.param("CO", "16", ("M76",), ("missing_information", "correct_and_resubmit"),
                     id="missing_information_16"),
        *[pytest.param("CO", r, (), ("eligibility", "verify_eligibility"), id=f"eligibility_{r}")
          for r in ("27", "26", "31", "32", "33", "200")],
        pytest.param("CO", "18", (), ("duplicate", "write_off"), id="duplicate_18"),
        pytest.param("CO", "29", (), ("timely_filing", "appeal"), id="timely_filing_29"),
        *[pytest.param("OA", r, (), ("coordination_of_benefits", "verify_eligibility"), id=f"cob_{r}")
          for r in ("22", "23", "109")],
        *[pytest.param("CO", r, (), ("benefit_limit", "appeal"), id=f"benefit_limit_{r}")
          for r in ("119", "149", "278")],
        pytest.param("PR", "119", (), ("benefit_limit", "bill_patient"), id="benefit_limit_pr_bills_patient"),
        *[pytest.param("CO", r, (), ("credentialing", "correct_and_resubmit"), id=f"credentialing_{r}")
          for r in ("B7", "52", "170", "185")],
        pytest.param("CO", "45", (), ("other", "write_off"), id="contractual_45_written_off"),
        pytest.param("CO", "A1", (), ("other", "appeal"), id="unknown_carc_other_appeal"),
        pytest.param("PI", "999", ("N54",), ("authorization", "correct_and_resubmit"), id="rarc_hint_n54"),
        pytest.param("CO", "50", ("N54",), ("medical_necessity", "appeal"), id="carc_wins_over_rarc_hint"),
        pytest.param("co", " 197 ", (), ("authorization", "correct_and_resubmit"), id="case_and_spaces"),
    ])
    def test_table(self, group: str, reason: str, remarks: tuple[str, ...], expected: tuple[str, str]) -> None:
        """Each CARC maps to its category and suggested action."""
        assert categorize(group, reason, remarks) == expected

    def test_table_uses_only_contract_values(self) -> None:
        """Every category and action in the table is one CONTRACT section 6 names."""
        assert {c for c, _ in CARC_CATEGORIES.values()} <= set(CATEGORIES)
        assert {a for _, a in CARC_CATEGORIES.values()} <= set(ACTIONS)
