"""The configuration refuses typos: unknown sections and keys, wrong types and bad values are
ConfigErrors naming the file, the section and the key (with a did-you-mean); env overrides and the
keys added for contract rates, inbound size and the transport timeout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.config import PAYER_KEYS, SECTIONS, load_config
from pipelines.errors import ConfigError

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "edi.toml"
DEMO = Path(__file__).resolve().parents[2] / "pipelines" / "demo" / "edi.toml"
SAMPLE = FIXTURE.read_text(encoding="utf-8")

AETNA_LIMIT = "visit_limit_per_year = 30"
BCBS_LAST = "timely_filing_days = 90"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    assert old in SAMPLE, old
    return SAMPLE.replace(old, new, 1)


# (what is wrong, the sample file with one edit, fragments the message must hold)
MISTAKES = [
    # unknown names, with a did-you-mean
    ("typo in a practice key", edited('billing_npi = "1234567893"', 'billing_npii = "1234567893"'),
     ["[practice]", "unknown key 'billing_npii'", "did you mean 'billing_npi'"]),
    ("unknown section", edited("[paths]", "[pathz]"), ["unknown section [pathz]", "did you mean [paths]"]),
    ("unknown section, nothing close", SAMPLE + "\n[frobnicate]\nx = 1\n",
     ["unknown section [frobnicate]", "known: [database]"]),
    ("typo in a transport key", edited('upload_dir = "inbound"', 'uplaod_dir = "inbound"'),
     ["[transport]", "'uplaod_dir'", "did you mean 'upload_dir'"]),
    ("typo in [eligibility]", edited("max_age_days = 30", "max_age_day = 30"),
     ["[eligibility]", "did you mean 'max_age_days'"]),
    ("typo in [status]", edited("after_days = 30", "afterdays = 30"), ["[status]", "did you mean 'after_days'"]),
    ("typo in [paths]", edited('archive_dir = "var/archive"', 'archive = "var/archive"'),
     ["[paths]", "did you mean 'archive_dir'"]),
    ("typo in a payer key", edited(AETNA_LIMIT, "visit_limits_per_year = 30"),
     ["[[payers]] #1 (AETNA)", "'visit_limits_per_year'", "did you mean 'visit_limit_per_year'"]),
    ("typo in a new payer key", edited(BCBS_LAST, BCBS_LAST + '\ncontract_rate = { "90837" = 1.0 }'),
     ["[[payers]] #3 (BCBS)", "did you mean 'contract_rates'"]),
    ("typo in [limits]", SAMPLE.replace("[paths]", "[limits]\nmax_inbound_byte = 10\n\n[paths]"),
     ["[limits]", "did you mean 'max_inbound_bytes'"]),
    ("a key before any section", 'billing_npi = "1234567893"\n' + SAMPLE,
     ["unknown key 'billing_npi' before any [section]", "belongs under [practice]"]),
    ("a secret in the file", edited('download_dir = "outbound"', 'download_dir = "outbound"\npassphrase = "x"'),
     ["[transport] passphrase", "EDI_TRANSPORT_PASSPHRASE"]),
    # wrong types
    ("text where a whole number belongs", edited(AETNA_LIMIT, 'visit_limit_per_year = "30"'),
     ["[[payers]] #1 (AETNA) visit_limit_per_year", "must be a whole number", "'30' (text)"]),
    ("true where a number belongs", edited(AETNA_LIMIT, "visit_limit_per_year = true"),
     ["visit_limit_per_year must be a whole number", "true (true/false)"]),
    ("a fraction where a whole number belongs", edited("after_days = 30", "after_days = 30.5"),
     ["[status] after_days must be a whole number", "30.5"]),
    ("a negative count", edited("max_age_days = 30", "max_age_days = -1"),
     ["[eligibility] max_age_days must not be negative"]),
    ("text where an amount belongs", edited('"90791" = 250.00', '"90791" = "250.00"'),
     ["[fees] 90791 must be an amount", "'250.00' (text)"]),
    ("a bool where an amount belongs", edited('"90791" = 250.00', '"90791" = true'),
     ["[fees] 90791 must be an amount", "true"]),
    ("a zero fee", edited('"90791" = 250.00', '"90791" = 0'), ["[fees] 90791 must be more than zero"]),
    ("text where a list belongs", edited('auth_required = ["90837", "H0015"]', 'auth_required = "90837"'),
     ["(AETNA) auth_required must be a list of codes"]),
    ("a number inside the list", edited('auth_required = ["90837", "H0015"]', "auth_required = [90837]"),
     ["auth_required item 1 must be a code in quotes"]),
    ("text where a table belongs",
     edited('credential_modifiers = { LCSW = "HO", LMFT = "HO", PhD = "HP" }', 'credential_modifiers = "HO"'),
     ["(AETNA) credential_modifiers must be a table"]),
    ("a number inside a sub-table",
     edited('credential_modifiers = { LCSW = "HO", LMFT = "HO", PhD = "HP" }', "credential_modifiers = { LCSW = 5 }"),
     ["credential_modifiers.LCSW must be text"]),
    ("a number where text belongs", edited('payer_id = "60054"', "payer_id = 60054"),
     ["(AETNA) payer_id must be text in quotes", "60054 (a whole number)"]),
    ("text in contract_rates", edited(BCBS_LAST, BCBS_LAST + '\ncontract_rates = { "90837" = "142.50" }'),
     ["(BCBS) contract_rates.90837 must be an amount"]),
    ("a zero contract rate", edited(BCBS_LAST, BCBS_LAST + '\ncontract_rates = { "90837" = 0 }'),
     ["contract_rates.90837 must be more than zero"]),
    ("contract_rates not a table", edited(BCBS_LAST, BCBS_LAST + "\ncontract_rates = 142.5"),
     ["contract_rates must be a table"]),
    ("a section that is a value", "limits = 3\n" + SAMPLE, ["[limits] must be a section"]),
    ("payers as one table", SAMPLE.split("[[payers]]")[0] + '[payers]\nid = "X"\n',
     ["payers must be a list of tables", "[[payers]]"]),
    ("timeout as text", edited('download_dir = "outbound"', 'download_dir = "outbound"\ntimeout_seconds = "30"'),
     ["[transport] timeout_seconds must be a number of seconds"]),
    ("a zero timeout", edited('download_dir = "outbound"', 'download_dir = "outbound"\ntimeout_seconds = 0'),
     ["[transport] timeout_seconds must be more than zero"]),
    ("a zero inbound limit", SAMPLE.replace("[paths]", "[limits]\nmax_inbound_bytes = 0\n\n[paths]"),
     ["[limits] max_inbound_bytes must be more than zero"]),
    # bad values (as before)
    ("bad NPI", edited('billing_npi = "1234567893"', 'billing_npi = "1234567890"'),
     ["[practice] billing_npi", "check digit"]),
    ("missing key", edited('tax_id = "123456789"\n', ""), ["[practice] tax_id is missing"]),
    ("empty required key", edited('name = "Aetna"', 'name = ""'), ["(AETNA) name is missing"]),
    ("bad usage", edited('usage = "T"', 'usage = "X"'), ["[clearinghouse] usage must be T or P"]),
    ("duplicate payer", edited('id = "BCBS"', 'id = "AETNA"'), ["id 'AETNA' is used twice"]),
    ("no payers", SAMPLE.split("[[payers]]")[0], ["no [[payers]] configured"]),
    ("unknown database scheme", edited('url = "sqlite:///var/edi.db"', 'url = "mysql://x/y"'),
     ["[database] url", "unknown database scheme 'mysql'"]),
    ("download_dir outside the mailbox", edited('download_dir = "outbound"', 'download_dir = "../x"'),
     ["[transport] download_dir must stay inside the mailbox", "'../x'"]),
    ("absolute upload_dir", edited('upload_dir = "inbound"', 'upload_dir = "/etc"'),
     ["[transport] upload_dir must stay inside the mailbox"]),
    ("mailbox scheme", edited('url = "local:var/mailbox"', 'url = "ftp://x"'),
     ["[transport] url must start with local: or sftp://"]),
    ("sftp with a password", edited('url = "local:var/mailbox"', 'url = "sftp://u:pw@host/x"'),
     ["[transport] url must not contain a password"]),
    ("sftp without a user", edited('url = "local:var/mailbox"', 'url = "sftp://host/x"'),
     ["[transport] url needs a user and a host"]),
    ("sftp without keys", edited('url = "local:var/mailbox"', 'url = "sftp://u@host/x"'),
     ["[transport] known_hosts and private_key are required for sftp"]),
    ("not TOML", SAMPLE + "\n[broken\n", ["not valid TOML"]),
]


@pytest.mark.parametrize(("text", "fragments"), [(t, f) for _, t, f in MISTAKES],
                         ids=[name for name, _, _ in MISTAKES])
def test_each_mistake_is_a_config_error_naming_the_key(tmp_path: Path, text: str, fragments: list[str]) -> None:
    """Every kind of mistake is a ConfigError with the file and the section and key in one line."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message


def test_the_sample_and_demo_configs_load_with_every_key() -> None:
    """fixtures/edi.toml and the demo's edi.toml use only known keys, of the right types."""
    for path in (FIXTURE, DEMO):
        config = load_config(path, env={})
        assert set(config.payers) == {"AETNA", "MEDICAID", "BCBS"}
        assert config.payers["MEDICAID"].claim_filing_indicator == "MC"
        assert config.payers["AETNA"].auth_required == frozenset({"90837", "H0015"})
        assert config.payers["AETNA"].credential_modifiers["PhD"] == "HP"
        assert config.fees["90837"] == Decimal("180.00")
        assert config.archive_dir == path.parent / "var" / "archive"


def test_the_schema_keeps_every_documented_key() -> None:
    """CONTRACT section 1, the README's extra keys and the new ones are all in the schema."""
    assert set(SECTIONS) == {"database", "practice", "clearinghouse", "transport", "paths", "eligibility",
                             "status", "limits"}
    assert {"url", "upload_dir", "download_dir", "known_hosts", "private_key", "passphrase_file",
            "timeout_seconds"} == set(SECTIONS["transport"])
    assert set(PAYER_KEYS) == {"id", "name", "payer_id", "telehealth_modifier", "audio_only_modifier",
                               "credential_modifiers", "auth_required", "visit_limit_per_year",
                               "timely_filing_days", "claim_filing_indicator", "contract_rates"}


class TestNewKeys:
    def test_defaults(self) -> None:
        """Without the new keys: no contract rates, 100 MiB inbound, a 30 s transport timeout."""
        config = load_config(FIXTURE, env={})
        assert all(p.contract_rates == {} for p in config.payers.values())
        assert config.max_inbound_bytes == 100 * 1024 * 1024
        assert config.transport.timeout_seconds == 30.0

    def test_values(self, tmp_path: Path) -> None:
        """contract_rates are Decimals in cents; max_inbound_bytes and timeout_seconds as given."""
        text = (edited(BCBS_LAST, BCBS_LAST + '\ncontract_rates = { "90837" = 142.50, "90834" = 98 }')
                .replace("[paths]", "[limits]\nmax_inbound_bytes = 2048\n\n[paths]")
                .replace('download_dir = "outbound"', 'download_dir = "outbound"\ntimeout_seconds = 7.5'))
        config = load_config(write(tmp_path, text), env={})
        assert config.payers["BCBS"].contract_rates == {"90837": Decimal("142.50"), "90834": Decimal("98.00")}
        assert str(config.payers["BCBS"].contract_rates["90834"]) == "98.00"
        assert config.payers["AETNA"].contract_rates == {}
        assert config.max_inbound_bytes == 2048
        assert config.transport.timeout_seconds == 7.5


class TestEnvironment:
    def test_overrides_are_converted_as_their_key_requires(self) -> None:
        """EDI_<SECTION>_<KEY> text becomes a URL, a whole number, seconds, an amount."""
        config = load_config(FIXTURE, env={
            "EDI_DATABASE_URL": "sqlite:////tmp/other.db", "EDI_ELIGIBILITY_MAX_AGE_DAYS": "7",
            "EDI_STATUS_AFTER_DAYS": "45", "EDI_LIMITS_MAX_INBOUND_BYTES": "1000",
            "EDI_TRANSPORT_TIMEOUT_SECONDS": "2.5", "EDI_FEES_H0015": "210.5",
            "EDI_CLEARINGHOUSE_USAGE": "p", "EDI_TRANSPORT_DOWNLOAD_DIR": "from/them"})
        assert config.database_url == "sqlite:////tmp/other.db"
        assert (config.eligibility_max_age_days, config.status_after_days) == (7, 45)
        assert config.max_inbound_bytes == 1000
        assert config.transport.timeout_seconds == 2.5
        assert config.fees["H0015"] == Decimal("210.50")
        assert config.clearinghouse.usage == "P"
        assert config.transport.download_dir == "from/them"

    def test_other_edi_variables_are_left_alone(self) -> None:
        """EDI_CONFIG, EDI_LOG_LEVEL, EDI_TEST_PG_URL belong to others; the passphrase is read apart."""
        config = load_config(FIXTURE, env={"EDI_LOG_LEVEL": "DEBUG", "EDI_TEST_PG_URL": "x", "EDI_CONFIG": "y",
                                           "EDI_TRANSPORT_PASSPHRASE": "s3cret"})
        assert config.transport.passphrase == "s3cret"
        assert "s3cret" not in repr(config.transport)

    def test_passphrase_file(self, tmp_path: Path) -> None:
        """transport.passphrase_file is read relative to the config's folder."""
        (tmp_path / "pass").write_text("from-file\n", encoding="utf-8")
        text = edited('download_dir = "outbound"', 'download_dir = "outbound"\npassphrase_file = "pass"')
        assert load_config(write(tmp_path, text), env={}).transport.passphrase == "from-file"
        (tmp_path / "pass").unlink()
        with pytest.raises(ConfigError, match=r"\[transport\] passphrase_file cannot be read"):
            load_config(tmp_path / "edi.toml", env={})

    @pytest.mark.parametrize(("env", "fragments"), [
        ({"EDI_ELIGIBILITY_MAX_AGE_DAYS": "soon"},
         ["[eligibility] max_age_days (from EDI_ELIGIBILITY_MAX_AGE_DAYS) must be a whole number", "'soon'"]),
        ({"EDI_LIMITS_MAX_INBOUND_BYTES": "0"}, ["max_inbound_bytes (from EDI_LIMITS_MAX_INBOUND_BYTES)",
                                                 "more than zero"]),
        ({"EDI_TRANSPORT_TIMEOUT_SECONDS": "fast"}, ["timeout_seconds (from EDI_TRANSPORT_TIMEOUT_SECONDS)"]),
        ({"EDI_FEES_90837": "lots"}, ["[fees] 90837 (from EDI_FEES_90837) must be an amount"]),
        ({"EDI_PRACTICE_BILLING_NPII": "1"}, ["EDI_PRACTICE_BILLING_NPII", "[practice] has no key 'billing_npii'",
                                              "did you mean EDI_PRACTICE_BILLING_NPI"]),
        ({"EDI_DATABSE_URL": "sqlite://"}, ["EDI_DATABSE_URL", "did you mean EDI_DATABASE_URL"]),
        ({"EDI_PAYERS_AETNA": "x"}, ["EDI_PAYERS_AETNA", "cannot be set from the environment"]),
        ({"EDI_DATABASE_URL": "oracle://x"}, ["[database] url (from EDI_DATABASE_URL)", "'oracle'"]),
        ({"EDI_TRANSPORT_DOWNLOAD_DIR": "../x"}, ["download_dir (from EDI_TRANSPORT_DOWNLOAD_DIR) must stay inside"]),
        ({"EDI_PRACTICE_NAME": " "}, ["[practice] name (from EDI_PRACTICE_NAME) is missing"]),
    ], ids=["count", "positive", "seconds", "amount", "unknown key", "unknown section", "payers", "scheme",
            "folder", "blank"])
    def test_bad_overrides_name_the_variable(self, env: dict[str, str], fragments: list[str]) -> None:
        with pytest.raises(ConfigError) as err:
            load_config(FIXTURE, env=env)
        for fragment in fragments:
            assert fragment in str(err.value), str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    """No config file: a ConfigError saying where it looked and how to give one."""
    with pytest.raises(ConfigError, match=r"nope\.toml not found .*--config"):
        load_config(tmp_path / "nope.toml", env={})


def test_binary_file(tmp_path: Path) -> None:
    """A config file that is not text is a ConfigError, not a UnicodeDecodeError."""
    path = tmp_path / "edi.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(path, env={})
