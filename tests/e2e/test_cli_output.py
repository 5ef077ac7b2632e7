"""What people read from `edi`: --at-risk, bad option values, a held claim explaining itself, the run summary."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import FIXTURES, Cli

AS_OF = "2026-06-15"


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The sample practice with its encounters coded and scrubbed as of 2026-06-15 (12 held)."""
    cli = Cli(tmp_path_factory.mktemp("output") / "practice")
    cli("init")
    cli("import", "authorizations", str(FIXTURES / "authorizations" / "sample.csv"))
    cli("import", "encounters", str(FIXTURES / "encounters" / "sample.csv"))
    cli("--as-of", AS_OF, "claims", "submit")
    return cli


def test_at_risk_lists_soonest_deadline_first(practice: Cli) -> None:
    claims = practice("--as-of", AS_OF, "claims", "list", "--at-risk", "--days", "60", "--json").json()["claims"]
    assert [c["claim_id"] for c in claims][:2] == ["C000022", "C000023"]
    assert [c["deadline"] for c in claims] == sorted(c["deadline"] for c in claims)
    assert all(c["status"] in {"held", "ready", "rejected", "denied"} for c in claims)
    assert all(0 <= c["days_left"] <= 60 for c in claims)
    assert "C000002" not in {c["claim_id"] for c in claims}  # past its deadline: not listed
    text = practice("--as-of", AS_OF, "claims", "list", "--at-risk", "--days", "60").stdout
    assert "deadline" in text and "2026-08-04" in text and "$140.00" in text
    none = practice("--as-of", AS_OF, "claims", "list", "--at-risk", "--days", "1").stdout
    assert "no claims within 1 days of a filing deadline" in none


@pytest.mark.parametrize(("argv", "valid"), [
    (("claims", "list", "--status", "bogus"), "held"),
    (("claims", "export", "--status", "bogus"), "patient_responsibility"),
    (("denials", "list", "--state", "bogus"), "resubmitted"),
    (("files", "list", "--status", "bogus"), "accepted_with_errors"),
    (("files", "list", "--direction", "bogus"), "out"),
    (("run", "--steps", "bogus"), "eligibility"),
    (("claims", "list", "--at-risk", "--days", "-3"), "--days"),
])
def test_bad_option_values_exit_2_listing_the_valid_ones(practice: Cli, argv: tuple[str, ...], valid: str) -> None:
    res = practice(*argv, check=2)
    assert "bogus" in res.stderr or "-3" in res.stderr
    assert valid in res.stderr


def test_claims_show_of_a_held_claim_explains_the_hold(practice: Cli) -> None:
    text = practice("claims", "show", "C000020").stdout
    assert "held (AUTH_EXPIRED)" in text
    assert "AUTH_EXPIRED: date of service 2026-05-05 is outside authorization AUTH-200 (2025-01-01 to 2025-12-31" \
        in text
    assert "diagnoses: F41.1" in text
    assert "$180.00" in text
    limit = practice("claims", "show", "C000040").stdout
    assert "VISIT_LIMIT_REACHED: the patient has used all 20 visits MEDICAID allows per year" in limit


def test_claims_list_amounts_are_right_aligned_dollars(practice: Cli) -> None:
    lines = practice("claims", "list", "--status", "held").stdout.splitlines()
    header, rows = lines[0], lines[2:]
    billed_end = header.index("billed") + len("billed")
    assert any("$180.00" in r for r in rows)
    assert all(r[:billed_end].endswith(".00") for r in rows)


def test_run_summary_is_readable(practice: Cli) -> None:
    res = practice("--as-of", "2026-08-01", "run", "--steps", "submit,report")
    lines = res.stdout.splitlines()
    assert lines[0].startswith("run ") and lines[0].endswith(": ok")
    assert "  submit: ok" in lines
    assert "    coded: 12" in lines
    assert "{" not in res.stdout
    assert lines[-1].startswith("3 claims within 7 days of a filing deadline")
    data = practice("--as-of", "2026-08-01", "run", "--steps", "report", "--json").json()
    assert data["claims_near_filing_deadline"] == 3
    assert "\x1b[" not in res.stdout  # no progress bar when stdout is not a terminal
