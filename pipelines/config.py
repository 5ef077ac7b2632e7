"""The one TOML configuration file (CONTRACT section 1), with EDI_<SECTION>_<KEY> overrides.

What is here, by name:

- the dataclasses a command gets: :class:`Config`, :class:`Practice`, :class:`Clearinghouse`,
  :class:`Transport`, :class:`PayerConfig`;
- the declared schema: :data:`SECTIONS` (every ``[section]`` and its keys with their kind and
  default), :data:`PAYER_KEYS` (the keys of one ``[[payers]]`` entry) and ``[fees]`` (code -> amount);
- :func:`load_config`, which reads the file, applies the environment and builds the dataclasses
  with one small reader per section.

Nothing is guessed: an unknown section or key, a value of the wrong type (``"30"`` where a whole
number belongs, ``true`` where an amount belongs...) or a bad value is a :class:`ConfigError` naming
the file, the section and the key, with a did-you-mean for names that are almost right.

Relative paths are relative to the folder the config file is in. Environment variables
``EDI_<SECTION>_<KEY>`` override a key of a known section (their text is converted as the key's kind
requires); variables of other sections (``EDI_LOG_LEVEL``, ``EDI_CONFIG``...) are left alone.
Secrets (the SFTP key passphrase) come from the environment (EDI_TRANSPORT_PASSPHRASE) or a file
(transport.passphrase_file), never from the database and never into a log.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipelines.errors import ConfigError
from pipelines.rules.money import cents
from pipelines.rules.npi import is_valid_npi
from transports.base import check_folder
from transports.errors import UnsafeName

__all__ = ["PAYER_KEYS", "SECTIONS", "Clearinghouse", "Config", "PayerConfig", "Practice", "Transport",
           "load_config"]

DEFAULT_PATH = "edi.toml"
MiB = 1024 * 1024


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
    timeout_seconds: float = 30.0


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
    contract_rates: dict[str, Decimal] = field(default_factory=dict)


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
    max_inbound_bytes: int = 100 * MiB

    def payer(self, payer_id: str) -> PayerConfig:
        try:
            return self.payers[payer_id]
        except KeyError:
            raise ConfigError(f"payer {payer_id!r} is not in the [[payers]] of {self.path}") from None


# --- the schema -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One key of the schema: its kind (a name in ``_CONVERTERS``), default, and whether it is required."""

    kind: str
    default: Any = None
    required: bool = False


_REQUIRED = Key("text", required=True)

SECTIONS: dict[str, dict[str, Key]] = {
    "database": {"url": _REQUIRED},
    "practice": {name: _REQUIRED for name in Practice.__dataclass_fields__},
    "clearinghouse": {"submitter_id": _REQUIRED, "receiver_id": _REQUIRED, "receiver_name": _REQUIRED,
                      "usage": Key("text", "T")},
    "transport": {"url": _REQUIRED, "upload_dir": Key("text", "inbound"), "download_dir": Key("text", "outbound"),
                  "known_hosts": Key("text"), "private_key": Key("text"), "passphrase_file": Key("text"),
                  "timeout_seconds": Key("seconds", 30.0)},
    "paths": {"archive_dir": Key("text", "var/archive")},
    "eligibility": {"max_age_days": Key("count", 30)},
    "status": {"after_days": Key("count", 30)},
    "limits": {"max_inbound_bytes": Key("positive", 100 * MiB)},
}
"""Every ``[section]`` with fixed keys. ``[fees]`` (code -> amount) and ``[[payers]]`` come apart."""

PAYER_KEYS: dict[str, Key] = {
    "id": _REQUIRED, "name": _REQUIRED, "payer_id": _REQUIRED,
    "telehealth_modifier": Key("text", "95"), "audio_only_modifier": Key("text", "93"),
    "credential_modifiers": Key("text_table", {}), "auth_required": Key("codes", frozenset()),
    "visit_limit_per_year": Key("count", 0), "timely_filing_days": Key("count", 365),
    "claim_filing_indicator": Key("text", "CI"), "contract_rates": Key("amount_table", {}),
}
"""The keys of one ``[[payers]]`` entry."""

_FEES = "fees"
_PAYERS = "payers"
_ALL_SECTIONS = [*SECTIONS, _FEES, _PAYERS]
_ENV_SKIP = {"EDI_CONFIG", "EDI_TRANSPORT_PASSPHRASE"}  # the file's path; a secret read apart


class _EnvValue(str):
    """A value that came from an environment variable (text, converted as its key requires)."""

    var: str

    def __new__(cls, value: str, var: str) -> _EnvValue:
        obj = super().__new__(cls, value)
        obj.var = var
        return obj


# --- messages ---------------------------------------------------------------------------------

def _did_you_mean(name: str, choices: Iterable[str], fmt: str = "{!r}") -> str:
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {fmt.format(close[0])}?)"
    return " (known: " + ", ".join(fmt.format(c) for c in choices) + ")"


def _shown(value: Any) -> str:
    """A value as the TOML file wrote it, with what kind of value that is."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return f"{str(value)!r} (text)"
    if isinstance(value, int):
        return f"{value} (a whole number)"
    if isinstance(value, float):
        return f"{value} (a number)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"{value!r} ({type(value).__name__})"


def _where(path: Path, label: str, key: str, value: Any = None) -> str:
    """``FILE: [section] key``, and the variable when the value came from the environment."""
    where = f"{path}: {label} {key}"
    return f"{where} (from {value.var})" if isinstance(value, _EnvValue) else where


# --- converters: (value, where) -> the typed value, or a ConfigError ---------------------------

def _as_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value.strip()
    raise ConfigError(f"{where} must be text in quotes, got {_shown(value)}")


def _as_whole(value: Any, where: str) -> int:
    if isinstance(value, _EnvValue):
        try:
            return int(value.strip())
        except ValueError:
            raise ConfigError(f"{where} must be a whole number, got {str(value)!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, got {_shown(value)}")
    return value


def _as_count(value: Any, where: str) -> int:
    n = _as_whole(value, where)
    if n < 0:
        raise ConfigError(f"{where} must not be negative, got {n}")
    return n


def _as_positive(value: Any, where: str) -> int:
    n = _as_whole(value, where)
    if n <= 0:
        raise ConfigError(f"{where} must be more than zero, got {n}")
    return n


def _as_seconds(value: Any, where: str) -> float:
    if isinstance(value, _EnvValue):
        try:
            seconds = float(value.strip())
        except ValueError:
            raise ConfigError(f"{where} must be a number of seconds, got {str(value)!r}") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number of seconds, got {_shown(value)}")
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"{where} must be more than zero seconds, got {value}")
    return seconds


def _as_amount(value: Any, where: str) -> Decimal:
    if isinstance(value, _EnvValue):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ConfigError(f"{where} must be an amount in dollars, got {str(value)!r}") from None
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be an amount in dollars (a number, no quotes), got {_shown(value)}")
    else:
        amount = Decimal(str(value))
    if not amount.is_finite() or amount <= 0:
        raise ConfigError(f"{where} must be more than zero, got {value}")
    return cents(amount)


def _as_codes(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise ConfigError(f'{where} must be a list of codes, e.g. ["90837", "H0015"], got {_shown(value)}')
    for i, code in enumerate(value, start=1):
        if not isinstance(code, str):
            raise ConfigError(f"{where} item {i} must be a code in quotes, got {_shown(code)}")
    return frozenset(code.strip() for code in value)


def _as_table(value: Any, where: str, example: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table, e.g. {example}, got {_shown(value)}")
    return value


def _as_text_table(value: Any, where: str) -> dict[str, str]:
    table = _as_table(value, where, '{ LCSW = "HO" }')
    return {str(k).strip(): _as_text(v, f"{where}.{k}") for k, v in table.items()}


def _as_amount_table(value: Any, where: str) -> dict[str, Decimal]:
    table = _as_table(value, where, '{ "90837" = 142.50 }')
    return {str(k).strip(): _as_amount(v, f"{where}.{k}") for k, v in table.items()}


_CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "text": _as_text, "count": _as_count, "positive": _as_positive, "seconds": _as_seconds,
    "codes": _as_codes, "text_table": _as_text_table, "amount_table": _as_amount_table,
}


# --- reading tables by the schema -------------------------------------------------------------

def _read_table(table: Mapping[str, Any], keys: Mapping[str, Key], label: str, path: Path) -> dict[str, Any]:
    """The values of one table converted by its schema, defaults filled in.

    An unknown key, a value of the wrong kind and a missing required key are ConfigErrors.
    """
    for name in table:
        if name not in keys:
            raise ConfigError(f"{path}: {label} unknown key {name!r}{_did_you_mean(name, keys)}")
    out: dict[str, Any] = {}
    for name, key in keys.items():
        value = table.get(name)
        if value is None or (key.required and isinstance(value, str) and not value.strip()):
            if key.required:
                raise ConfigError(f"{_where(path, label, name, value)} is missing")
            out[name] = dict(key.default) if isinstance(key.default, dict) else key.default
            continue
        out[name] = _CONVERTERS[key.kind](value, _where(path, label, name, value))
    return out


def _section(raw: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    """``[name]`` of the file (empty when absent); a value that is not a table is an error."""
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a section (a [{name}] header with keys under it), "
                          f"got {_shown(value)}")
    return value


def _read_section(raw: Mapping[str, Any], name: str, path: Path) -> dict[str, Any]:
    return _read_table(_section(raw, name, path), SECTIONS[name], f"[{name}]", path)


def _check_sections(raw: Mapping[str, Any], path: Path) -> None:
    """Every top-level name is a known section."""
    for name, value in raw.items():
        if name in _ALL_SECTIONS:
            continue
        if not isinstance(value, dict | list):
            owners = [s for s, keys in SECTIONS.items() if name in keys]
            hint = f" (it belongs under [{owners[0]}])" if owners else ""
            raise ConfigError(f"{path}: unknown key {name!r} before any [section]{hint}")
        raise ConfigError(f"{path}: unknown section [{name}]{_did_you_mean(name, _ALL_SECTIONS, '[{}]')}")


def _apply_env(raw: dict[str, Any], env: Mapping[str, str], path: Path) -> None:
    """Put the EDI_<SECTION>_<KEY> overrides into ``raw``, marked as coming from the environment."""
    for var in sorted(env):
        m = re.fullmatch(r"EDI_([A-Z]+)_([A-Z0-9_]+)", var)
        if not m or var in _ENV_SKIP:
            continue
        section, name = m.group(1).lower(), m.group(2).lower()
        if section not in _ALL_SECTIONS:
            close = difflib.get_close_matches(section, _ALL_SECTIONS, n=1, cutoff=0.8)
            if close:  # EDI_DATABSE_URL; other EDI_* variables (EDI_LOG_LEVEL) are not ours
                meant = f"EDI_{close[0].upper()}_{m.group(2)}"
                raise ConfigError(f"{var}: unknown section [{section}] (did you mean {meant}?)")
            continue
        if section == _PAYERS:
            raise ConfigError(f"{var}: [[payers]] entries cannot be set from the environment; edit {path}")
        if section == _FEES:
            name = name.upper()  # procedure codes: EDI_FEES_H0015
        elif name not in SECTIONS[section]:
            prefix = f"EDI_{section.upper()}_"
            raise ConfigError(f"{var}: [{section}] has no key {name!r}"
                              + _did_you_mean(name.upper(), [k.upper() for k in SECTIONS[section]],
                                              prefix + "{}"))
        table = raw.setdefault(section, {})
        if isinstance(table, dict):
            table[name] = _EnvValue(env[var], var)


# --- one reader per section -------------------------------------------------------------------

def _resolve(base: Path, value: str | None) -> str | None:
    if not value:
        return value
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else base / p)


def _database_url(raw: Mapping[str, Any], path: Path, base: Path) -> str:
    table = _section(raw, "database", path)
    url: str = _read_table(table, SECTIONS["database"], "[database]", path)["url"]
    m = re.match(r"([A-Za-z][A-Za-z0-9+._-]*)://", url)
    dialect = m.group(1).split("+")[0].lower() if m else None
    if dialect not in ("sqlite", "postgresql"):
        scheme = m.group(1) if m else url.split(":", 1)[0]
        raise ConfigError(f"{_where(path, '[database]', 'url', table.get('url'))}: unknown database "
                          f"scheme {scheme!r} (use sqlite:///PATH or postgresql+psycopg://user@host/db)")
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + str(base / url[len(prefix):])
    return url


def _practice(raw: Mapping[str, Any], path: Path) -> Practice:
    practice = Practice(**_read_section(raw, "practice", path))
    if not is_valid_npi(practice.billing_npi):
        raise ConfigError(f"{path}: [practice] billing_npi {practice.billing_npi!r} fails the NPI check digit")
    if not re.fullmatch(r"\d{9}", practice.tax_id.replace("-", "")):
        raise ConfigError(f"{path}: [practice] tax_id must be 9 digits (an EIN)")
    if not re.fullmatch(r"\d{5}(\d{4})?", practice.zip):
        raise ConfigError(f"{path}: [practice] zip must be 5 or 9 digits")
    return practice


def _clearinghouse(raw: Mapping[str, Any], path: Path) -> Clearinghouse:
    values = _read_section(raw, "clearinghouse", path)
    clearinghouse = Clearinghouse(**{**values, "usage": values["usage"].upper()})
    if clearinghouse.usage not in ("T", "P"):
        raise ConfigError(f"{path}: [clearinghouse] usage must be T or P")
    for key in ("submitter_id", "receiver_id"):
        if len(getattr(clearinghouse, key)) > 15:
            raise ConfigError(f"{path}: [clearinghouse] {key} is longer than 15 characters")
    return clearinghouse


def _mailbox_url(url: str, where: str, base: Path) -> str:
    """``[transport] url`` checked as open_mailbox will read it; a relative local path made absolute."""
    if url.startswith("local:"):
        folder = url[len("local:"):]
        if not folder:
            raise ConfigError(f"{where}: local: needs a folder, e.g. local:var/mailbox")
        return "local:" + str(_resolve(base, folder))
    if not url.startswith("sftp://"):
        raise ConfigError(f"{where} must start with local: or sftp://, got {url!r}")
    parts = urlsplit(url)
    if parts.password is not None:
        raise ConfigError(f"{where} must not contain a password: the SFTP mailbox uses key authentication")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{where} has a bad port: {url!r}") from None
    if not parts.username or not parts.hostname:
        raise ConfigError(f"{where} needs a user and a host: sftp://user@host:port/path")
    return url


def _passphrase(values: Mapping[str, Any], env: Mapping[str, str], path: Path, base: Path) -> str | None:
    passphrase = env.get("EDI_TRANSPORT_PASSPHRASE")
    pfile = _resolve(base, values["passphrase_file"])
    if passphrase is None and pfile:
        try:
            passphrase = Path(pfile).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"{path}: [transport] passphrase_file cannot be read: {reason}") from None
    return passphrase


def _transport(raw: Mapping[str, Any], env: Mapping[str, str], path: Path, base: Path) -> Transport:
    table = _section(raw, "transport", path)
    if "passphrase" in table:
        raise ConfigError(f"{path}: [transport] passphrase: a secret does not belong in the file; set "
                          "EDI_TRANSPORT_PASSPHRASE or passphrase_file")
    values = _read_table(table, SECTIONS["transport"], "[transport]", path)
    url = _mailbox_url(values["url"], _where(path, "[transport]", "url", table.get("url")), base)
    for key in ("upload_dir", "download_dir"):
        try:
            check_folder(values[key])
        except UnsafeName as exc:
            raise ConfigError(f"{_where(path, '[transport]', key, table.get(key))} must stay inside the "
                              f"mailbox: {exc}") from None
    transport = Transport(
        url=url, upload_dir=values["upload_dir"], download_dir=values["download_dir"],
        known_hosts=_resolve(base, values["known_hosts"]), private_key=_resolve(base, values["private_key"]),
        passphrase=_passphrase(values, env, path, base), timeout_seconds=values["timeout_seconds"],
    )
    if url.startswith("sftp://") and not (transport.known_hosts and transport.private_key):
        raise ConfigError(f"{path}: [transport] known_hosts and private_key are required for sftp")
    return transport


def _fees(raw: Mapping[str, Any], path: Path) -> dict[str, Decimal]:
    fees = _section(raw, _FEES, path)
    return {str(code).strip(): _as_amount(value, _where(path, "[fees]", code, value))
            for code, value in fees.items()}


def _payer(entry: Any, i: int, path: Path) -> PayerConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: [[payers]] #{i} must be a table, got {_shown(entry)}")
    pid = entry.get("id")
    label = f"[[payers]] #{i}" + (f" ({pid})" if isinstance(pid, str) and pid.strip() else "")
    return PayerConfig(**_read_table(entry, PAYER_KEYS, label, path))


def _payers(raw: Mapping[str, Any], path: Path) -> dict[str, PayerConfig]:
    entries = raw.get(_PAYERS, [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: payers must be a list of tables: write each payer under its own [[payers]]")
    payers: dict[str, PayerConfig] = {}
    for i, entry in enumerate(entries, start=1):
        payer = _payer(entry, i, path)
        if payer.id in payers:
            raise ConfigError(f"{path}: [[payers]] #{i}: id {payer.id!r} is used twice")
        payers[payer.id] = payer
    if not payers:
        raise ConfigError(f"{path}: no [[payers]] configured")
    return payers


def _read_file(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> tuple[Path, dict[str, Any]]:
    cfg_path = Path(path or env.get("EDI_CONFIG") or DEFAULT_PATH).expanduser().resolve()
    if not cfg_path.is_file():
        raise ConfigError(f"configuration file {cfg_path} not found (give --config PATH or set EDI_CONFIG)")
    try:
        return cfg_path, tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot be read ({exc.strerror})") from None


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the configuration; every problem is a ConfigError naming the file and the key."""
    env = os.environ if env is None else env
    cfg_path, raw = _read_file(path, env)
    _check_sections(raw, cfg_path)
    _apply_env(raw, env, cfg_path)
    base = cfg_path.parent
    database_url = _database_url(raw, cfg_path, base)
    practice = _practice(raw, cfg_path)
    clearinghouse = _clearinghouse(raw, cfg_path)
    transport = _transport(raw, env, cfg_path, base)
    fees = _fees(raw, cfg_path)
    payers = _payers(raw, cfg_path)
    archive_dir = _read_section(raw, "paths", cfg_path)["archive_dir"] or "var/archive"
    return Config(
        path=cfg_path, base_dir=base, database_url=database_url, practice=practice,
        clearinghouse=clearinghouse, transport=transport, fees=fees, payers=payers,
        archive_dir=Path(_resolve(base, archive_dir) or archive_dir),
        eligibility_max_age_days=_read_section(raw, "eligibility", cfg_path)["max_age_days"],
        status_after_days=_read_section(raw, "status", cfg_path)["after_days"],
        max_inbound_bytes=_read_section(raw, "limits", cfg_path)["max_inbound_bytes"],
    )
