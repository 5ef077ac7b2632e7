"""The one TOML configuration file (CONTRACT section 1), with EDI_<SECTION>_<KEY> overrides.

Relative paths are relative to the folder the config file is in. Secrets (the SFTP key
passphrase) come from the environment (EDI_TRANSPORT_PASSPHRASE) or a file
(transport.passphrase_file), never from the database and never into a log.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError
from pipelines.rules.npi import is_valid_npi

__all__ = ["Clearinghouse", "Config", "PayerConfig", "Practice", "Transport", "load_config"]

DEFAULT_PATH = "edi.toml"


@dataclass(frozen=True)
class Practice:
    name: str
    billing_npi: str
    tax_id: str
    taxonomy: str
    address: str
    city: str
    state: str
    zip: str
    contact_name: str
    contact_phone: str


@dataclass(frozen=True)
class Clearinghouse:
    submitter_id: str
    receiver_id: str
    receiver_name: str
    usage: str = "T"


@dataclass(frozen=True)
class Transport:
    url: str
    upload_dir: str = "inbound"
    download_dir: str = "outbound"
    known_hosts: str | None = None
    private_key: str | None = None
    passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PayerConfig:
    id: str
    name: str
    payer_id: str
    telehealth_modifier: str = "95"
    audio_only_modifier: str = "93"
    credential_modifiers: Mapping[str, str] = field(default_factory=dict)
    auth_required: frozenset[str] = frozenset()
    visit_limit_per_year: int = 0
    timely_filing_days: int = 365
    claim_filing_indicator: str = "CI"


@dataclass(frozen=True)
class Config:
    path: Path
    base_dir: Path
    database_url: str
    practice: Practice
    clearinghouse: Clearinghouse
    transport: Transport
    fees: Mapping[str, Decimal]
    payers: Mapping[str, PayerConfig]
    archive_dir: Path
    eligibility_max_age_days: int = 30
    status_after_days: int = 30

    def payer(self, payer_id: str) -> PayerConfig:
        try:
            return self.payers[payer_id]
        except KeyError:
            raise ConfigError(f"payer {payer_id!r} is not in the [[payers]] of {self.path}") from None


def _env_overrides(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for key, value in env.items():
        m = re.fullmatch(r"EDI_([A-Z]+)_([A-Z0-9_]+)", key)
        if not m or key in ("EDI_CONFIG",):
            continue
        section, name = m.group(1).lower(), m.group(2).lower()
        if section == "transport" and name == "passphrase":
            continue  # read separately, as a secret
        raw.setdefault(section, {})
        if isinstance(raw[section], dict):
            raw[section][name] = value


def _req(sec: Mapping[str, Any], section: str, key: str, path: Path) -> str:
    value = sec.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"{path}: [{section}] {key} is missing")
    return str(value).strip()


def _resolve(base: Path, value: str | None) -> str | None:
    if not value:
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + str(base / url[len(prefix):])
    return url


def _int(sec: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = sec.get(key, default)
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} {key} must be a whole number, got {value!r}") from None
    if n < 0:
        raise ConfigError(f"{where} {key} must not be negative, got {n}")
    return n


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the configuration; every problem is a ConfigError naming the key."""
    env = os.environ if env is None else env
    cfg_path = Path(path or env.get("EDI_CONFIG") or DEFAULT_PATH).expanduser().resolve()
    if not cfg_path.is_file():
        raise ConfigError(f"configuration file {cfg_path} not found (give --config PATH or set EDI_CONFIG)")
    try:
        raw: dict[str, Any] = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
    _env_overrides(raw, env)
    base = cfg_path.parent

    db = raw.get("database", {})
    database_url = _sqlite_url(_req(db, "database", "url", cfg_path), base)

    pr = raw.get("practice", {})
    practice = Practice(**{k: _req(pr, "practice", k, cfg_path) for k in Practice.__dataclass_fields__})
    if not is_valid_npi(practice.billing_npi):
        raise ConfigError(f"{cfg_path}: [practice] billing_npi {practice.billing_npi!r} fails the NPI check digit")
    if not re.fullmatch(r"\d{9}", practice.tax_id.replace("-", "")):
        raise ConfigError(f"{cfg_path}: [practice] tax_id must be 9 digits (an EIN)")
    if not re.fullmatch(r"\d{5}(\d{4})?", practice.zip):
        raise ConfigError(f"{cfg_path}: [practice] zip must be 5 or 9 digits")

    ch = raw.get("clearinghouse", {})
    clearinghouse = Clearinghouse(
        submitter_id=_req(ch, "clearinghouse", "submitter_id", cfg_path),
        receiver_id=_req(ch, "clearinghouse", "receiver_id", cfg_path),
        receiver_name=_req(ch, "clearinghouse", "receiver_name", cfg_path),
        usage=str(ch.get("usage", "T")).strip().upper(),
    )
    if clearinghouse.usage not in ("T", "P"):
        raise ConfigError(f"{cfg_path}: [clearinghouse] usage must be T or P")
    for key in ("submitter_id", "receiver_id"):
        if len(getattr(clearinghouse, key)) > 15:
            raise ConfigError(f"{cfg_path}: [clearinghouse] {key} is longer than 15 characters")

    tr = raw.get("transport", {})
    url = _req(tr, "transport", "url", cfg_path)
    if url.startswith("local:"):
        url = "local:" + str(_resolve(base, url[len("local:"):]))
    elif not url.startswith("sftp://"):
        raise ConfigError(f"{cfg_path}: [transport] url must start with local: or sftp://, got {url!r}")
    passphrase = env.get("EDI_TRANSPORT_PASSPHRASE")
    pfile = _resolve(base, tr.get("passphrase_file"))
    if passphrase is None and pfile:
        try:
            passphrase = Path(pfile).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{cfg_path}: [transport] passphrase_file cannot be read: {exc.strerror}") from None
    transport = Transport(
        url=url,
        upload_dir=str(tr.get("upload_dir", "inbound")),
        download_dir=str(tr.get("download_dir", "outbound")),
        known_hosts=_resolve(base, tr.get("known_hosts")),
        private_key=_resolve(base, tr.get("private_key")),
        passphrase=passphrase,
    )
    if url.startswith("sftp://") and not (transport.known_hosts and transport.private_key):
        raise ConfigError(f"{cfg_path}: [transport] known_hosts and private_key are required for sftp")

    fees: dict[str, Decimal] = {}
    for code, value in raw.get("fees", {}).items():
        try:
            amount = Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ConfigError(f"{cfg_path}: [fees] {code} must be an amount, got {value!r}") from None
        if amount <= 0:
            raise ConfigError(f"{cfg_path}: [fees] {code} must be more than zero")
        fees[str(code)] = amount

    payers: dict[str, PayerConfig] = {}
    for i, p in enumerate(raw.get("payers", []), start=1):
        where = f"{cfg_path}: [[payers]] #{i}"
        pid = _req(p, f"payers #{i}", "id", cfg_path)
        if pid in payers:
            raise ConfigError(f"{where}: id {pid!r} is used twice")
        mods = p.get("credential_modifiers", {}) or {}
        if not isinstance(mods, dict):
            raise ConfigError(f"{where} credential_modifiers must be a table")
        auth = p.get("auth_required", []) or []
        if not isinstance(auth, list):
            raise ConfigError(f"{where} auth_required must be a list of codes")
        payers[pid] = PayerConfig(
            id=pid,
            name=_req(p, f"payers #{i}", "name", cfg_path),
            payer_id=_req(p, f"payers #{i}", "payer_id", cfg_path),
            telehealth_modifier=str(p.get("telehealth_modifier", "95")),
            audio_only_modifier=str(p.get("audio_only_modifier", "93")),
            credential_modifiers={str(k): str(v) for k, v in mods.items()},
            auth_required=frozenset(str(c) for c in auth),
            visit_limit_per_year=_int(p, "visit_limit_per_year", 0, where),
            timely_filing_days=_int(p, "timely_filing_days", 365, where),
            claim_filing_indicator=str(p.get("claim_filing_indicator", "CI")),
        )
    if not payers:
        raise ConfigError(f"{cfg_path}: no [[payers]] configured")

    paths = raw.get("paths", {})
    archive_dir = Path(_resolve(base, str(paths.get("archive_dir", "var/archive"))) or "var/archive")
    el = raw.get("eligibility", {})
    st = raw.get("status", {})
    return Config(
        path=cfg_path, base_dir=base, database_url=database_url, practice=practice,
        clearinghouse=clearinghouse, transport=transport, fees=fees, payers=payers,
        archive_dir=archive_dir,
        eligibility_max_age_days=_int(el, "max_age_days", 30, f"{cfg_path}: [eligibility]"),
        status_after_days=_int(st, "after_days", 30, f"{cfg_path}: [status]"),
    )
