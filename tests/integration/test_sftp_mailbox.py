"""SftpMailbox against a real OpenSSH sshd (tests/integration/sshd.py) on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import paramiko
import pytest
from paramiko.sftp_file import SFTPFile
from structlog.testing import capture_logs

from tests.integration.sshd import SshdServer, generate_key
from tests.unit.test_local_mailbox import FOLDER, MailboxBehaviour
from transports import (
    AuthError,
    ConnectError,
    HostKeyError,
    SftpMailbox,
    SizeMismatch,
    TransferError,
    open_mailbox,
)

pytestmark = pytest.mark.sshd

BIG = 8 * 1024 * 1024  # several SSH windows, so a cut lands in the middle of the transfer


def mailbox_for(server: SshdServer, **overrides: Any) -> SftpMailbox:
    """An SftpMailbox on ``server`` with quick retries; keyword arguments replace the defaults."""
    args: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "username": server.username,
        "base": server.base,
        "private_key_path": server.user_key,
        "known_hosts_path": server.known_hosts,
        "timeout": 10,
        "attempts": 3,
        "backoff": 0.01,
    }
    args.update(overrides)
    return SftpMailbox(**args)


def events(logs: list[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


@pytest.fixture
def connect_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Records every SSH connection attempt paramiko makes."""
    calls: list[tuple[str, int]] = []
    real = paramiko.SSHClient.connect

    def counting(self: paramiko.SSHClient, hostname: str, port: int = 22, **kwargs: Any) -> Any:
        calls.append((hostname, port))
        return real(self, hostname, port, **kwargs)

    monkeypatch.setattr(paramiko.SSHClient, "connect", counting)
    return calls


def cut_once(
    monkeypatch: pytest.MonkeyPatch, server: SshdServer, method: str, after_calls: int
) -> Callable[[], int]:
    """Make SFTPFile.<method> kill the server's sessions on its Nth call, once; returns a kill count."""
    real = getattr(SFTPFile, method)
    state = {"calls": 0, "killed": 0}

    def wrapper(self: SFTPFile, *args: Any, **kwargs: Any) -> Any:
        state["calls"] += 1
        if state["calls"] == after_calls and not state["killed"]:
            state["killed"] = server.kill_sessions()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SFTPFile, method, wrapper)
    return lambda: state["killed"]


class TestSftpMailboxBehaviour(MailboxBehaviour):
    """The behaviour every mailbox shares, over SFTP into the sshd chroot."""

    @pytest.fixture
    def backing(self, sshd_server: SshdServer, sftp_mailbox: SftpMailbox) -> Path:
        return sshd_server.mailbox_dir  # after sftp_mailbox has emptied it

    @pytest.fixture
    def mailbox(self, sftp_mailbox: SftpMailbox) -> SftpMailbox:
        return sftp_mailbox


class TestSftpUploads:
    """Uploads are atomic, owner-only, and replace existing files."""

    def test_upload_is_owner_only(self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer) -> None:
        """A file put over SFTP lands with mode 0600."""
        sftp_mailbox.put(FOLDER, "f.x12", b"ISA*")
        assert (sshd_server.mailbox_dir / FOLDER / "f.x12").stat().st_mode & 0o777 == 0o600

    def test_put_over_existing_without_posix_rename(
        self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the server lacks posix-rename, put still replaces an existing file via plain rename."""
        target = sshd_server.mailbox_dir / FOLDER / "f.x12"
        target.write_bytes(b"old and longer")

        def unsupported(self: paramiko.SFTPClient, old: str, new: str) -> None:
            raise OSError("Operation unsupported")

        monkeypatch.setattr(paramiko.SFTPClient, "posix_rename", unsupported)
        sftp_mailbox.put(FOLDER, "f.x12", b"new")
        assert target.read_bytes() == b"new"
        assert os.listdir(target.parent) == ["f.x12"]

    def test_put_into_missing_folder_is_not_retried(
        self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer
    ) -> None:
        """A put into a folder the server does not have fails at once with a non-transient error."""
        with capture_logs() as logs, pytest.raises(TransferError) as info:
            sftp_mailbox.put("no-such-folder", "f.x12", b"x")
        assert not info.value.transient
        assert events(logs, "mailbox_retry") == []


class TestHostKeys:
    """The server's host key must already be in known_hosts, unchanged; nothing is ever added."""

    def test_unknown_host_key_is_refused(
        self, sshd_server: SshdServer, tmp_path: Path, connect_calls: list[tuple[str, int]]
    ) -> None:
        """A server whose key is not in known_hosts is refused without retry and known_hosts stays as it was."""
        known_hosts = tmp_path / "known_hosts"
        other = f"[{sshd_server.host}]:{sshd_server.port + 1} {sshd_server.host_key_line}\n"
        known_hosts.write_text(other)
        with mailbox_for(sshd_server, known_hosts_path=known_hosts) as box, pytest.raises(HostKeyError) as info:
            box.list(FOLDER)
        assert f"[{sshd_server.host}]:{sshd_server.port}" in str(info.value)
        assert str(known_hosts) in str(info.value)
        assert known_hosts.read_text() == other
        assert len(connect_calls) == 1

    def test_changed_host_key_is_refused(
        self, sshd_server: SshdServer, tmp_path: Path, connect_calls: list[tuple[str, int]]
    ) -> None:
        """A server presenting a different key than known_hosts holds is refused without retry."""
        impostor = generate_key(tmp_path / "other_host_key")
        known_hosts = tmp_path / "known_hosts"
        entry = f"[{sshd_server.host}]:{sshd_server.port} {' '.join(impostor.split()[:2])}\n"
        known_hosts.write_text(entry)
        with mailbox_for(sshd_server, known_hosts_path=known_hosts) as box, pytest.raises(HostKeyError) as info:
            box.put(FOLDER, "f.x12", b"x")
        assert "does not match" in str(info.value)
        assert known_hosts.read_text() == entry
        assert len(connect_calls) == 1
        assert not (sshd_server.mailbox_dir / FOLDER / "f.x12").exists()

    def test_missing_known_hosts_file_is_refused(self, sshd_server: SshdServer, tmp_path: Path) -> None:
        """Without a readable known_hosts file no connection is attempted and none is created."""
        known_hosts = tmp_path / "absent_known_hosts"
        with mailbox_for(sshd_server, known_hosts_path=known_hosts) as box, pytest.raises(HostKeyError):
            box.list(FOLDER)
        assert not known_hosts.exists()


class TestAuthentication:
    """Key authentication only; a refused key is final."""

    def test_wrong_key_fails_without_retry(
        self, sshd_server: SshdServer, tmp_path: Path, connect_calls: list[tuple[str, int]]
    ) -> None:
        """A key the server does not know raises AuthError after exactly one connection attempt."""
        generate_key(tmp_path / "stranger")
        with capture_logs() as logs, pytest.raises(AuthError):
            mailbox_for(sshd_server, private_key_path=tmp_path / "stranger").list(FOLDER)
        assert len(connect_calls) == 1
        assert events(logs, "mailbox_retry") == []

    def test_encrypted_key_needs_its_passphrase(self, sshd_server: SshdServer, tmp_path: Path) -> None:
        """An encrypted private key without a passphrase is an AuthError, not a retry loop."""
        generate_key(tmp_path / "locked", passphrase="correct horse")
        with pytest.raises(AuthError) as info:
            mailbox_for(sshd_server, private_key_path=tmp_path / "locked").list(FOLDER)
        assert "correct horse" not in str(info.value)

    def test_encrypted_key_with_passphrase_connects(self, sshd_server: SshdServer, tmp_path: Path) -> None:
        """An encrypted private key opens with its passphrase and authenticates."""
        public = generate_key(tmp_path / "locked", passphrase="correct horse")
        with (sshd_server.root / "authorized_keys").open("a") as fh:
            fh.write(public + "\n")
        box = mailbox_for(sshd_server, private_key_path=tmp_path / "locked", passphrase="correct horse")
        with box:
            box.put(FOLDER, "f.x12", b"ok")
        assert (sshd_server.mailbox_dir / FOLDER / "f.x12").read_bytes() == b"ok"

    def test_wrong_passphrase_is_an_auth_error(self, sshd_server: SshdServer, tmp_path: Path) -> None:
        """A wrong passphrase for the private key raises AuthError that does not repeat the passphrase."""
        generate_key(tmp_path / "locked", passphrase="correct horse")
        with pytest.raises(AuthError) as info:
            mailbox_for(sshd_server, private_key_path=tmp_path / "locked", passphrase="wrong pony").list(FOLDER)
        assert "wrong pony" not in str(info.value)


class TestRetries:
    """Transient faults are retried on a new connection; the result is complete and correct."""

    def test_upload_survives_a_cut_connection(
        self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A connection killed in the middle of a large put is reconnected and the file arrives whole."""
        data = os.urandom(BIG)
        killed = cut_once(monkeypatch, sshd_server, "_write", after_calls=20)
        with capture_logs() as logs:
            sftp_mailbox.put(FOLDER, "big.x12", data)
        assert killed() > 0
        assert len(events(logs, "mailbox_retry")) >= 1
        assert len(events(logs, "mailbox_connect")) >= 2
        assert (sshd_server.mailbox_dir / FOLDER / "big.x12").read_bytes() == data
        assert os.listdir(sshd_server.mailbox_dir / FOLDER) == ["big.x12"]

    # paramiko's own prefetch thread dies with the connection and reports it; the get still recovers.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
    def test_download_survives_a_cut_connection(
        self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A connection killed in the middle of a large get is reconnected and the bytes come back whole."""
        data = os.urandom(BIG)
        (sshd_server.mailbox_dir / FOLDER / "big.x12").write_bytes(data)
        killed = cut_once(monkeypatch, sshd_server, "_read", after_calls=1)
        with capture_logs() as logs:
            got = sftp_mailbox.get(FOLDER, "big.x12")
        assert killed() > 0
        assert len(events(logs, "mailbox_retry")) >= 1
        assert got == data

    def test_short_download_is_detected(
        self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A download shorter than the listed size is retried, then reported as SizeMismatch."""
        (sshd_server.mailbox_dir / FOLDER / "f.x12").write_bytes(b"ISA*00*complete file")
        real_read = SFTPFile.read

        def short_read(self: SFTPFile, size: int | None = None) -> bytes:
            data: bytes = real_read(self, size)
            return data[:-1]

        monkeypatch.setattr(SFTPFile, "read", short_read)
        with capture_logs() as logs, pytest.raises(SizeMismatch) as info:
            sftp_mailbox.get(FOLDER, "f.x12")
        assert len(events(logs, "mailbox_retry")) == sftp_mailbox.attempts - 1
        assert "server lists 20" in str(info.value)
        assert all("complete file" not in str(entry) for entry in logs)

    def test_unreachable_server_is_a_connect_error_after_retries(
        self, sshd_server: SshdServer, connect_calls: list[tuple[str, int]]
    ) -> None:
        """A port nobody listens on gives ConnectError once every attempt has been used."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        box = mailbox_for(sshd_server, port=closed_port, attempts=2)
        with pytest.raises(ConnectError):
            box.list(FOLDER)
        assert len(connect_calls) == 2

    def test_reconnects_after_idle_connection_was_dropped(
        self, sftp_mailbox: SftpMailbox, sshd_server: SshdServer
    ) -> None:
        """After the server drops an idle connection, the next operation reconnects and works."""
        sftp_mailbox.put(FOLDER, "a.x12", b"first")
        assert sshd_server.kill_sessions() > 0
        sftp_mailbox.put(FOLDER, "b.x12", b"second")
        assert [f.name for f in sftp_mailbox.list(FOLDER)] == ["a.x12", "b.x12"]


class TestTimeouts:
    """A server that stops answering is given up on after the timeout, never waited on forever."""

    def test_silent_server_times_out_at_the_banner(self, sshd_server: SshdServer) -> None:
        """A port that accepts TCP but never speaks SSH gives ConnectError within a few timeouts."""
        with socket.socket() as mute:
            mute.bind(("127.0.0.1", 0))
            mute.listen(8)
            box = mailbox_for(sshd_server, port=mute.getsockname()[1], timeout=0.5, attempts=2)
            started = time.monotonic()
            with pytest.raises(ConnectError):
                box.list(FOLDER)
            assert time.monotonic() - started < 10

    def test_stalled_session_is_retried_on_a_new_connection(
        self, sshd_server: SshdServer, sshd_timeout_mailbox: SftpMailbox
    ) -> None:
        """When the session stops answering mid-operation, the request times out and a new connection succeeds."""
        box = sshd_timeout_mailbox
        box.put(FOLDER, "a.x12", b"first")
        stalled = sshd_server.session_pids()
        assert stalled
        for pid in stalled:
            os.kill(pid, signal.SIGSTOP)
        try:
            with capture_logs() as logs:
                box.put(FOLDER, "b.x12", b"second")
        finally:
            for pid in stalled:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    os.kill(pid, signal.SIGCONT)
        assert [e["error"] for e in events(logs, "mailbox_retry")] == ["ConnectError"]
        assert (sshd_server.mailbox_dir / FOLDER / "b.x12").read_bytes() == b"second"


@pytest.fixture
def sshd_timeout_mailbox(sshd_server: SshdServer, sftp_mailbox: SftpMailbox) -> Iterator[SftpMailbox]:
    """An SftpMailbox with a one-second timeout on every request."""
    with mailbox_for(sshd_server, timeout=1.0) as box:
        yield box


class TestOpenMailboxSftp:
    """open_mailbox gives a working SFTP mailbox from the configured url."""

    def test_url_round_trip(self, sshd_server: SshdServer, sftp_mailbox: SftpMailbox) -> None:
        """A mailbox opened from the server's sftp:// url writes where the server keeps the mailbox."""
        (sshd_server.mailbox_dir / FOLDER).mkdir(exist_ok=True)
        with open_mailbox(
            sshd_server.url, known_hosts=sshd_server.known_hosts, private_key=sshd_server.user_key
        ) as box:
            box.put(FOLDER, "837P.x12", b"ISA*")
        assert (sshd_server.mailbox_dir / FOLDER / "837P.x12").read_bytes() == b"ISA*"


@pytest.fixture(autouse=True)
def _inbound(sshd_server: SshdServer, sftp_mailbox: SftpMailbox) -> Iterator[None]:
    """Every test here starts with an empty ``inbound`` folder in the mailbox."""
    (sshd_server.mailbox_dir / FOLDER).mkdir(exist_ok=True)
    yield
