"""Never a traceback: every error a user can cause, from every layer, through `edi`.

Each case runs ``pipelines.cli.main.main([...])`` in-process (a few run the real ``edi`` command)
and checks the exit code (2 usage or configuration, 1 some work failed), exactly one ``edi: ...``
line on stderr naming the place, no "Traceback", and with ``--json`` the object
``{"error": {"type", "message", "exit"}}`` on stdout.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import exc as sa_exc

from edi.errors import EdiError
from pipelines.cli.main import COMMANDS, main
from pipelines.errors import ConfigError, InputError, PipelineError, UsageError
from pipelines.rules.lifecycle import ClaimStatus, Event, IllegalTransition
from tests.e2e.conftest import FIXTURES, Cli
from transports.errors import TransportError

TA1 = ("ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*SUNRISE01      *261127*1200*^*00501*"
       "000000077*0*T*:~TA1*000000005*261126*1200*R*022~IEA*0*000000077~")
CLOSED_PORT_DB = "postgresql+psycopg://edi:s3cret@127.0.0.1:1/edi"


class Run:
    """What one `edi` invocation printed, with the checks every error case shares."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def failed(self, code: int, *fragments: str, as_json: bool = False) -> str:
        """Exit ``code``, one ``edi:`` line holding every fragment, no traceback; returns the line."""
        assert self.code == code, f"exit {self.code}\n{self.out}\n{self.err}"
        assert "Traceback" not in self.out + self.err
        lines = [ln for ln in self.err.splitlines() if ln.startswith("edi: ")]
        assert len(lines) == 1, self.err
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        if as_json:
            error = json.loads(self.out)["error"]
            assert error["exit"] == code and error["message"] == lines[0][len("edi: "):] and error["type"]
        return lines[0]


class Practice:
    """A practice folder with a copy of fixtures/edi.toml, run through ``main()`` in-process."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder, self.capsys, self.monkeypatch = folder, capsys, monkeypatch
        folder.mkdir(parents=True)
        self.config = folder / "edi.toml"
        shutil.copy(FIXTURES / "edi.toml", self.config)

    def edit(self, old: str, new: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        assert old in text
        self.config.write_text(text.replace(old, new, 1), encoding="utf-8")

    def file(self, name: str, data: bytes | str) -> str:
        path = self.folder / name
        path.write_bytes(data.encode("latin-1") if isinstance(data, str) else data)
        return str(path)

    def __call__(self, *argv: str) -> Run:
        self.capsys.readouterr()
        code = main(["--config", str(self.config), *argv])
        out, err = self.capsys.readouterr()
        return Run(code, out, err)


@pytest.fixture
def practice(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Practice]:
    for name in [n for n in os.environ if n.startswith("EDI_")]:
        monkeypatch.delenv(name)
    p = Practice(tmp_path / "practice", capsys, monkeypatch)
    monkeypatch.chdir(p.folder)
    yield p
    structlog.reset_defaults()  # main() pointed the logs at this test's captured stderr, closed after it


@pytest.fixture
def ready(practice: Practice) -> Practice:
    """The practice with its SQLite database created."""
    assert practice("init").code == 0
    return practice


# --- configuration (exit 2) ----------------------------------------------------------------------

class TestConfiguration:
    def test_typo_in_a_key(self, practice: Practice) -> None:
        practice.edit('billing_npi = "1234567893"', 'billing_npii = "1234567893"')
        practice("--json", "claims", "list").failed(
            2, "edi.toml", "[practice]", "billing_npii", "did you mean 'billing_npi'", as_json=True)

    def test_unknown_section(self, practice: Practice) -> None:
        practice.edit("[paths]", "[path]")
        practice("claims", "list").failed(2, "edi.toml", "unknown section [path]", "did you mean [paths]")

    def test_wrong_type(self, practice: Practice) -> None:
        practice.edit("visit_limit_per_year = 30", 'visit_limit_per_year = "30"')
        practice("claims", "list").failed(2, "edi.toml", "(AETNA) visit_limit_per_year", "whole number")

    def test_missing_config(self, practice: Practice) -> None:
        res = practice("--config", str(practice.folder / "nope.toml"), "--json", "init")
        res.failed(2, "nope.toml", "not found", as_json=True)

    def test_download_dir_outside_the_mailbox(self, practice: Practice) -> None:
        practice.edit('download_dir = "outbound"', 'download_dir = "../x"')
        practice("ingest").failed(2, "[transport] download_dir", "'../x'")

    def test_env_override_typo(self, practice: Practice) -> None:
        practice.monkeypatch.setenv("EDI_ELIGIBILITY_MAX_AGE_DAYS", "soon")
        practice("eligibility", "request").failed(2, "EDI_ELIGIBILITY_MAX_AGE_DAYS", "max_age_days", "'soon'")


# --- the database ---------------------------------------------------------------------------------

class TestDatabase:
    def test_unreachable(self, practice: Practice) -> None:
        """PostgreSQL on a closed port: exit 1 naming the database (password hidden) and the reason."""
        practice.monkeypatch.setenv("EDI_DATABASE_URL", CLOSED_PORT_DB)
        res = practice("--json", "claims", "list")
        line = res.failed(1, "database postgresql+psycopg://edi:***@127.0.0.1:1/edi", "cannot be reached",
                          as_json=True)
        assert "s3cret" not in res.out + res.err and "Connection refused" in line
        assert json.loads(res.out)["error"]["type"] == "DatabaseError"

    def test_unknown_scheme(self, practice: Practice) -> None:
        practice.monkeypatch.setenv("EDI_DATABASE_URL", "foo://x/y")
        practice("claims", "list").failed(2, "[database] url (from EDI_DATABASE_URL)", "unknown database scheme 'foo'")

    def test_unknown_driver(self, practice: Practice) -> None:
        practice.monkeypatch.setenv("EDI_DATABASE_URL", "postgresql+nosuchdriver://x/y")
        practice("claims", "list").failed(2, "[database] url", "unknown database driver", "nosuchdriver")

    def test_no_database_yet(self, practice: Practice) -> None:
        """A SQLite database nobody ran `edi init` for says so."""
        practice("--json", "claims", "list").failed(2, "database sqlite:///", "edi.db", "does not exist",
                                                    "run `edi init`", as_json=True)

    def test_no_schema_yet(self, practice: Practice) -> None:
        """An empty database (no tables) says to run `edi init`."""
        (practice.folder / "var").mkdir()
        (practice.folder / "var" / "edi.db").write_bytes(b"")
        practice("claims", "list").failed(2, "database sqlite:///", "edi.db", "no such table", "run `edi init`")

    def test_database_file_unusable(self, practice: Practice) -> None:
        """A database file that is not a database: exit 1 naming it."""
        (practice.folder / "var").mkdir()
        (practice.folder / "var" / "edi.db").write_bytes(b"this is not a database" * 100)
        practice("claims", "list").failed(1, "var/edi.db", "file is not a database")


# --- input files ----------------------------------------------------------------------------------

class TestInputFiles:
    def test_binary_code_list(self, ready: Practice) -> None:
        name = ready.file("carc.csv", bytes(range(256)) * 4)
        ready("--json", "codes", "import", "carc", name).failed(2, "carc.csv", "not UTF-8 text", as_json=True)

    @pytest.mark.parametrize("argv", [["inspect"], ["validate"], ["import", "encounters"], ["ingest"],
                                      ["codes", "import", "rarc"]], ids=" ".join)
    def test_missing_file_is_a_usage_error(self, ready: Practice, argv: list[str]) -> None:
        """A missing input file named on the command line: exit 2, its name, JSON on stdout."""
        ready("--json", *argv, "nope.txt").failed(2, "nope.txt: no such file", as_json=True)

    def test_missing_file_among_several_stops_before_any_work(self, ready: Practice) -> None:
        ta1 = ready.file("ta1.x12", TA1)
        ready("ingest", ta1, "nope.x12").failed(2, "nope.x12")
        assert ready("--json", "files", "list").code == 0
        assert json.loads(ready("--json", "files", "list").out)["files"] == []

    def test_a_folder_is_not_a_file(self, practice: Practice) -> None:
        practice("inspect", str(practice.folder)).failed(2, "is a folder")

    def test_not_x12(self, ready: Practice) -> None:
        name = ready.file("hello.x12", "hello, world\n")
        ready("inspect", name).failed(1, "hello.x12", "segment 1", "does not start with an ISA segment")
        res = ready("ingest", name)
        assert res.code == 1 and "Traceback" not in res.err
        files = json.loads(ready("--json", "files", "list").out)["files"]
        assert files[0]["state"] == "failed" and "does not start with an ISA segment" in files[0]["error"]

    def test_empty_file_says_the_same_in_inspect_and_ingest(self, ready: Practice) -> None:
        name = ready.file("empty.x12", b"")
        ready("inspect", name).failed(1, "empty.x12", "an empty file is not X12")
        doc = json.loads(ready("--json", "inspect", name).out)  # inspect's own JSON form (CONTRACT section 6)
        assert doc["error"]["message"] == "an empty file is not X12"
        res = ready("ingest", name)
        assert res.code == 1 and "Traceback" not in res.err
        files = json.loads(ready("--json", "files", "list").out)["files"]
        assert files[0]["state"] == "failed" and "an empty file is not X12" in files[0]["error"]

    def test_broken_envelope_names_file_and_segment(self, practice: Practice) -> None:
        name = practice.file("bad.x12", TA1.replace("IEA*0*000000077", "IEA*0*000000078"))
        practice("inspect", name).failed(1, "bad.x12", "segment 3", "IEA02")


# --- the command line ---------------------------------------------------------------------------

class TestCommandLine:
    def test_unknown_id(self, ready: Practice) -> None:
        ready("--json", "claims", "show", "C999999").failed(1, "C999999", as_json=True)

    def test_argparse_error_with_json(self, practice: Practice) -> None:
        res = practice("--json", "claims", "frobnicate")
        assert res.code == 2 and "Traceback" not in res.err and "invalid choice" in res.err
        assert json.loads(res.out)["error"]["type"] == "UsageError"

    def test_debug_shows_the_traceback_and_keeps_the_exit_code(self, practice: Practice) -> None:
        practice.edit("[paths]", "[path]")
        res = practice("--debug", "claims", "list")
        assert res.code == 2 and "Traceback" in res.err and "edi: " in res.err


# --- every error type of every layer ----------------------------------------------------------------

def _all_subclasses(cls: type) -> list[type]:
    found = [cls]
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        found += [c for c in _all_subclasses(sub) if c not in found]
    return found


def _make(cls: type[BaseException]) -> BaseException:
    if issubclass(cls, EdiError):
        return cls("an element is wrong", segment_number=3, segment_id="IEA", element=2, offset=120)
    if issubclass(cls, IllegalTransition):
        return cls(ClaimStatus.PAID, Event.SENT, claim_id="C000001")
    return cls("something is wrong at the place")


LAYERED = sorted({c for base in (PipelineError, EdiError, TransportError) for c in _all_subclasses(base)},
                 key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _expected_exit(cls: type) -> int:
    return 2 if issubclass(cls, ConfigError | UsageError | InputError) else 1


# other layers: (id, exception factory, exit, fragments the line must hold, text it must not show)
FOREIGN: list[tuple[str, Callable[[], BaseException], int, list[str], list[str]]] = [
    ("sqlalchemy OperationalError",
     lambda: sa_exc.OperationalError("SELECT name FROM patients", {"m": "PHI-MEMBER"}, Exception("refused\nmore")),
     1, ["cannot be reached", "refused"], ["SELECT", "PHI-MEMBER", "more"]),
    ("sqlalchemy ProgrammingError no table",
     lambda: sa_exc.ProgrammingError("SELECT 1", {}, Exception('relation "claims" does not exist')),
     2, ["edi init"], ["SELECT"]),
    ("sqlalchemy IntegrityError",
     lambda: sa_exc.IntegrityError("INSERT x", {"dob": "PHI-DOB"}, Exception("duplicate key")),
     1, ["duplicate key"], ["PHI-DOB", "INSERT"]),
    ("sqlalchemy ArgumentError", lambda: sa_exc.ArgumentError("Could not parse SQLAlchemy URL"), 2,
     ["[database] url"], []),
    ("sqlalchemy NoSuchModuleError", lambda: sa_exc.NoSuchModuleError("Can't load plugin: x"), 2,
     ["[database] url", "unknown database driver"], []),
    ("UnicodeDecodeError", lambda: UnicodeDecodeError("utf-8", b"ab\xff", 2, 3, "invalid start byte"), 2,
     ["in.x12", "not UTF-8 text", "byte 2"], []),
    ("OSError on another file", lambda: PermissionError(errno.EACCES, "Permission denied", "/var/archive/x"), 1,
     ["/var/archive/x", "Permission denied"], []),
    ("OSError on the input file", lambda: PermissionError(errno.EACCES, "Permission denied", "in.x12"), 2,
     ["in.x12", "Permission denied"], []),
    ("KeyboardInterrupt", KeyboardInterrupt, 130, ["interrupted"], []),
    ("a bug", lambda: RuntimeError("unexpected"), 1, ["internal error", "RuntimeError", "--debug"], []),
]


@pytest.fixture
def raising(practice: Practice) -> Callable[[BaseException], Run]:
    """Run `edi --json inspect in.x12` with the command replaced by one raising the given error."""
    practice.file("in.x12", TA1)  # relative: the fixture works in the practice folder
    practice.monkeypatch.setenv("EDI_DATABASE_URL", "sqlite:///:memory:")  # the place named in database errors

    def run(exc: BaseException) -> Run:
        def command(app: Any, args: Any) -> int:
            raise exc

        practice.monkeypatch.setitem(COMMANDS, ("inspect",), command)
        return practice("--json", "inspect", "in.x12")

    return run


def test_the_hierarchies_are_all_found() -> None:
    """The walk sees the errors of every layer (so a new error class is covered by the next test)."""
    names = {c.__name__ for c in LAYERED}
    assert {"ConfigError", "UsageError", "InputError", "NotFound", "RunLocked", "DatabaseError", "ApplyError",
            "IllegalTransition", "X12SyntaxError", "DelimiterError", "EnvelopeError", "TransactionError",
            "BuildError", "ConnectError", "HostKeyError", "AuthError", "TransferError", "SizeMismatch",
            "UnsafeName"} <= names


@pytest.mark.parametrize("cls", LAYERED, ids=lambda c: c.__name__)
def test_every_layered_error_type(raising: Callable[[BaseException], Run], cls: type[BaseException]) -> None:
    exc = _make(cls)
    res = raising(exc)
    res.failed(_expected_exit(cls), as_json=True)
    error = json.loads(res.out)["error"]
    assert error["type"] == cls.__name__
    if isinstance(exc, EdiError):  # the place: the file and the segment
        assert "in.x12" in error["message"] and "segment 3" in error["message"] and "IEA02" in error["message"]
    if isinstance(exc, TransportError):
        assert error["message"].startswith("mailbox: ")


@pytest.mark.parametrize(("make", "code", "fragments", "hidden"), [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_every_foreign_error_type(raising: Callable[[BaseException], Run], make: Callable[[], BaseException],
                                  code: int, fragments: list[str], hidden: list[str]) -> None:
    res = raising(make())
    res.failed(code, *fragments, as_json=True)
    for text in hidden:
        assert text not in res.out + res.err


# --- the real `edi` command ---------------------------------------------------------------------------

class TestSubprocess:
    def test_config_typo(self, cli: Cli) -> None:
        cfg = cli.folder / "edi.toml"
        cfg.write_text(cfg.read_text().replace("[status]", "[statsu]"))
        res = cli("claims", "list", check=2)
        Run(res.code, res.stdout, res.stderr).failed(2, "edi.toml", "unknown section [statsu]", "did you mean [status]")

    def test_database_unreachable_with_json(self, cli: Cli) -> None:
        cli.env["EDI_DATABASE_URL"] = CLOSED_PORT_DB
        res = cli("--json", "claims", "list", check=1)
        Run(res.code, res.stdout, res.stderr).failed(1, "127.0.0.1:1", "cannot be reached", as_json=True)

    def test_binary_code_list(self, cli: Cli) -> None:
        cli("init")
        (cli.folder / "rarc.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        res = cli("codes", "import", "rarc", "rarc.csv", check=2)
        Run(res.code, res.stdout, res.stderr).failed(2, "rarc.csv", "not UTF-8 text")

    def test_missing_file_to_inspect_with_json(self, cli: Cli) -> None:
        res = cli("--json", "inspect", "nope.x12", check=2)
        Run(res.code, res.stdout, res.stderr).failed(2, "nope.x12: no such file", as_json=True)
