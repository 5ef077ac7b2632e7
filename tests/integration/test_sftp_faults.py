"""SftpMailbox under faults, against the real sshd (tests/integration/sshd.py).

- A slow or stalled server: the client goes through ``StallProxy`` (tests/integration/sshd.py), a
  loopback TCP proxy in front of sshd that can hold back the server's answers or stop moving bytes
  at a chosen moment. Every
  operation must end with a typed error within a bound, never hang (``bounded`` runs it in a
  thread and fails the test instead of waiting forever).
- A full remote disk: a 256 KiB tmpfs mounted under the chroot's mailbox.
- A server without posix-rename: a second sshd whose sftp-server denies it (``-P posix-rename``).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import paramiko
import pytest
from structlog.testing import capture_logs

from tests.integration.sshd import MountRefused, SshdServer, StallProxy, running_sshd, unavailable_reason
from tests.unit.test_local_mailbox import FOLDER
from transports import ConnectError, DiskFull, SftpMailbox, TransferError
from transports.watchdog import Link

pytestmark = pytest.mark.sshd

TIMEOUT = 1.0  # the mailbox's timeout in these tests
SLACK = 3.0  # scheduling slack on a loaded test machine
BIG = 8 * 1024 * 1024  # several SSH windows
MIB = 1024 * 1024


# -- helpers and fixtures -------------------------------------------------------------------------


def bounded(fn: Callable[[], Any], limit: float = 30.0) -> tuple[Any, BaseException | None, float]:
    """Run ``fn`` in a thread: (result, exception, seconds); fails the test if it runs past ``limit``."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = fn()
        except BaseException as exc:  # handed to the test
            outcome["error"] = exc

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True, name="bounded-call")
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"the mailbox call still hangs after {limit}s")
    return outcome.get("result"), outcome.get("error"), time.monotonic() - started


def events(logs: list[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def empty_mailbox(server: SshdServer) -> None:
    """Remove everything in the server's mailbox folder and make an empty ``inbound``."""
    for entry in server.mailbox_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (server.mailbox_dir / FOLDER).mkdir()


def mailbox_on(server: SshdServer, port: int, known_hosts: Path, **overrides: Any) -> SftpMailbox:
    args: dict[str, Any] = {"timeout": TIMEOUT, "attempts": 1, "backoff": 0.01}
    args.update(overrides)
    return SftpMailbox(server.host, port, server.username, server.base, server.user_key, known_hosts, **args)


@pytest.fixture
def proxy(sshd_server: SshdServer) -> Iterator[StallProxy]:
    """A StallProxy in front of the session's sshd, closed (with all its connections) afterwards."""
    empty_mailbox(sshd_server)
    stall_proxy = StallProxy((sshd_server.host, sshd_server.port))
    try:
        yield stall_proxy
    finally:
        stall_proxy.close()


@pytest.fixture
def via_proxy(
    sshd_server: SshdServer, proxy: StallProxy, tmp_path: Path
) -> Iterator[Callable[..., SftpMailbox]]:
    """Makes SftpMailboxes that reach sshd through the proxy (one attempt, 1 s timeout by default)."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[{sshd_server.host}]:{proxy.port} {sshd_server.host_key_line}\n")
    boxes: list[SftpMailbox] = []

    def make(**overrides: Any) -> SftpMailbox:
        boxes.append(mailbox_on(sshd_server, proxy.port, known_hosts, **overrides))
        return boxes[-1]

    yield make
    proxy.close()  # first, so closing the boxes waits on nothing
    for box in boxes:
        box.close()


def stall_when(monkeypatch: pytest.MonkeyPatch, proxy: StallProxy, owner: type, method: str) -> None:
    """Make the proxy stall as the client is about to call ``owner.method``."""
    real = getattr(owner, method)

    def stalling(*args: Any, **kwargs: Any) -> Any:
        proxy.stall()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, method, stalling)


# -- the stall watchdog on its own ----------------------------------------------------------------


class TestWatchdog:
    """transports.watchdog.Link on a socket pair: silence cuts, traffic keeps the connection."""

    def test_silence_inside_watch_cuts_the_socket(self) -> None:
        """A recv waiting on a silent peer returns EOF once the limit has passed, and timed_out says why."""
        ours, peer = socket.socketpair()
        with peer:
            link = Link(0.3)
            watched = link.attach(ours)
            started = time.monotonic()
            with link.watch():
                assert watched.recv(10) == b""
            assert 0.25 < time.monotonic() - started < 0.3 + SLACK
            assert link.timed_out
            watched.close()

    def test_traffic_keeps_the_connection(self) -> None:
        """Bytes arriving more often than the limit keep the watchdog from firing."""
        ours, peer = socket.socketpair()
        link = Link(0.3)
        watched = link.attach(ours)

        def trickle() -> None:
            for _ in range(8):
                time.sleep(0.1)
                peer.sendall(b"x")

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        with link.watch():
            got = b"".join(watched.recv(1) for _ in range(8))
        sender.join()
        assert got == b"x" * 8
        assert not link.timed_out
        watched.close()
        peer.close()

    def test_no_watch_no_cut(self) -> None:
        """Outside ``watch()`` an idle connection is left alone, however long."""
        ours, peer = socket.socketpair()
        link = Link(0.1)
        watched = link.attach(ours)
        time.sleep(0.3)
        peer.sendall(b"x")
        assert watched.recv(1) == b"x"
        assert not link.timed_out
        watched.close()
        peer.close()

    def test_cut_before_the_socket_arrives(self) -> None:
        """A cut that comes while the TCP connect is still running shuts the socket as soon as it arrives."""
        ours, peer = socket.socketpair()
        link = Link(10)
        link.cut()
        watched = link.attach(ours)
        assert watched.recv(1) == b""
        watched.close()
        peer.close()


# -- a slow or stalled server ---------------------------------------------------------------------


class TestSlowServer:
    """A server that is slow still works; one that stops answering fails within the bound."""

    def test_slow_answers_within_the_timeout_work(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy, sshd_server: SshdServer
    ) -> None:
        """Every answer held back 50 ms (well under the timeout): put, list, get and archive all work."""
        proxy.delay = 0.05
        box = via_proxy()
        data = os.urandom(300_000)

        def session() -> bytes:
            box.put(FOLDER, "slow.x12", data)
            assert [f.name for f in box.list(FOLDER)] == ["slow.x12"]
            got = box.get(FOLDER, "slow.x12")
            box.archive(FOLDER, "slow.x12")
            return got

        got, error, elapsed = bounded(session)
        assert error is None
        assert got == data
        assert elapsed > 0.5  # the delay was really there
        assert (sshd_server.mailbox_dir / FOLDER / "archive" / "slow.x12").read_bytes() == data

    def test_answers_slower_than_the_timeout_fail_in_bound(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy
    ) -> None:
        """A server whose every answer takes three timeouts gives ConnectError after each attempt's timeout."""
        proxy.delay = 3 * TIMEOUT
        box = via_proxy(attempts=2)
        _, error, elapsed = bounded(lambda: box.list(FOLDER))
        assert isinstance(error, ConnectError)
        assert elapsed < 2 * TIMEOUT + SLACK

    @pytest.mark.parametrize(
        "owner, method",
        [
            pytest.param(None, None, id="banner"),
            pytest.param(paramiko.Transport, "auth_publickey", id="authentication"),
            pytest.param(paramiko.Transport, "open_session", id="channel-open"),
            pytest.param(paramiko.Channel, "invoke_subsystem", id="sftp-subsystem"),
        ],
    )
    def test_stall_while_connecting_is_a_timely_connect_error(
        self,
        via_proxy: Callable[..., SftpMailbox],
        proxy: StallProxy,
        monkeypatch: pytest.MonkeyPatch,
        owner: type | None,
        method: str | None,
    ) -> None:
        """Whatever step of the connection the server goes silent in, ConnectError comes within the timeout."""
        if owner is None:
            proxy.stall()
        else:
            assert method is not None
            stall_when(monkeypatch, proxy, owner, method)
        box = via_proxy()
        _, error, elapsed = bounded(lambda: box.list(FOLDER))
        assert isinstance(error, ConnectError), error
        assert f"{box.host}:{box.port}" in str(error)
        assert elapsed < TIMEOUT + SLACK

    def test_stall_on_a_request_is_a_timely_connect_error(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy
    ) -> None:
        """On an open connection, a server that stops answering a request gives ConnectError in time."""
        box = via_proxy()
        assert box.list(FOLDER) == []
        proxy.stall()
        _, error, elapsed = bounded(lambda: box.exists(FOLDER, "f.x12"))
        assert isinstance(error, ConnectError)
        assert "timed out" in str(error)
        assert elapsed < TIMEOUT + SLACK

    def test_stall_mid_upload_is_a_timely_connect_error(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy, sshd_server: SshdServer
    ) -> None:
        """A server that stops reading 1 MiB into an 8 MiB put: ConnectError in time, no file under the name."""
        proxy.stall_after(to_server=MIB)
        box = via_proxy()
        _, error, elapsed = bounded(lambda: box.put(FOLDER, "big.x12", os.urandom(BIG)))
        assert isinstance(error, ConnectError)
        assert "put inbound/big.x12" in str(error)
        assert elapsed < TIMEOUT + SLACK
        assert not (sshd_server.mailbox_dir / FOLDER / "big.x12").exists()

    # paramiko's prefetch thread dies with the cut connection and reports it.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
    def test_stall_mid_download_is_a_timely_connect_error(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy, sshd_server: SshdServer
    ) -> None:
        """A server that stops sending 1 MiB into an 8 MiB get: ConnectError within the timeout."""
        (sshd_server.mailbox_dir / FOLDER / "big.x12").write_bytes(os.urandom(BIG))
        proxy.stall_after(to_client=MIB)
        box = via_proxy()
        _, error, elapsed = bounded(lambda: box.get(FOLDER, "big.x12"))
        assert isinstance(error, ConnectError)
        assert elapsed < TIMEOUT + SLACK

    def test_stalled_server_with_retries_is_bounded(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy
    ) -> None:
        """Three attempts on a server that never answers: ConnectError after about three timeouts."""
        proxy.stall()
        box = via_proxy(attempts=3)
        with capture_logs() as logs:
            _, error, elapsed = bounded(lambda: box.list(FOLDER))
        assert isinstance(error, ConnectError)
        assert len(events(logs, "mailbox_retry")) == 2
        assert proxy.connections == 3
        assert elapsed < 3 * TIMEOUT + SLACK

    def test_upload_stalled_once_completes_on_a_new_connection(
        self, via_proxy: Callable[..., SftpMailbox], proxy: StallProxy, sshd_server: SshdServer
    ) -> None:
        """A put whose connection stalls mid-transfer is retried on a fresh one and arrives whole."""
        data = os.urandom(BIG)
        proxy.stall_after(to_server=MIB)
        box = via_proxy(attempts=2)
        with capture_logs() as logs:
            _, error, elapsed = bounded(lambda: box.put(FOLDER, "big.x12", data))
        assert error is None
        assert [e["error"] for e in events(logs, "mailbox_retry")] == ["ConnectError"]
        assert (sshd_server.mailbox_dir / FOLDER / "big.x12").read_bytes() == data
        assert os.listdir(sshd_server.mailbox_dir / FOLDER) == ["big.x12"]
        assert elapsed < TIMEOUT + 2 * SLACK


# -- a full remote disk ---------------------------------------------------------------------------

FULL = "full"  # the mailbox folder that is a 256 KiB tmpfs


@pytest.fixture
def tiny_disk(sshd_server: SshdServer, sftp_mailbox: SftpMailbox) -> Iterator[Path]:
    """``mailbox/full`` on a 256 KiB tmpfs (after sftp_mailbox emptied the mailbox); unmounted after."""
    (sshd_server.mailbox_dir / FOLDER).mkdir()
    try:
        target = sshd_server.mount_tmpfs(FULL, "256k")
    except MountRefused as exc:
        pytest.skip(f"the full-disk tests mount a tmpfs, which this machine refuses: {exc}")
    try:
        yield target
    finally:
        sshd_server.unmount(target)


class TestFullDisk:
    """A put that runs out of space fails clearly, leaves nothing behind, and the mailbox goes on."""

    def test_put_on_a_full_disk_is_a_disk_full_error(
        self, sftp_mailbox: SftpMailbox, tiny_disk: Path
    ) -> None:
        """512 KiB into 256 KiB: DiskFull naming the file, no retry, neither the file nor its .part left."""
        with capture_logs() as logs, pytest.raises(DiskFull) as info:
            sftp_mailbox.put(FULL, "big.x12", os.urandom(512 * 1024))
        assert isinstance(info.value, TransferError)
        assert not info.value.transient
        assert "put full/big.x12" in str(info.value)
        assert "no space left" in str(info.value)
        assert events(logs, "mailbox_retry") == []
        assert os.listdir(tiny_disk) == []

    def test_mailbox_stays_usable_after_a_full_disk(
        self, sftp_mailbox: SftpMailbox, tiny_disk: Path, sshd_server: SshdServer
    ) -> None:
        """After DiskFull the same connection puts a small file there and elsewhere."""
        with capture_logs() as logs:
            sftp_mailbox.put(FOLDER, "before.x12", b"ISA*")
            with pytest.raises(DiskFull):
                sftp_mailbox.put(FULL, "big.x12", os.urandom(512 * 1024))
            sftp_mailbox.put(FULL, "small.x12", b"ISA*small")
            sftp_mailbox.put(FOLDER, "after.x12", b"ISA*after")
        assert len(events(logs, "mailbox_connect")) == 1
        assert os.listdir(tiny_disk) == ["small.x12"]
        assert (tiny_disk / "small.x12").read_bytes() == b"ISA*small"
        assert sorted(os.listdir(sshd_server.mailbox_dir / FOLDER)) == ["after.x12", "before.x12"]

    def test_failed_put_keeps_the_previous_file(self, sftp_mailbox: SftpMailbox, tiny_disk: Path) -> None:
        """A put that runs out of space never replaces the file already under that name."""
        sftp_mailbox.put(FULL, "f.x12", b"ISA*previous")
        with pytest.raises(DiskFull):
            sftp_mailbox.put(FULL, "f.x12", os.urandom(512 * 1024))
        assert os.listdir(tiny_disk) == ["f.x12"]
        assert sftp_mailbox.get(FULL, "f.x12") == b"ISA*previous"


# -- a server without posix-rename ----------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_rename_sshd() -> Iterator[SshdServer]:
    """A second sshd whose sftp-server denies posix-rename@openssh.com."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with running_sshd(sftp_flags="-P posix-rename") as server:
        yield server


@pytest.fixture
def plain_box(plain_rename_sshd: SshdServer) -> Iterator[SftpMailbox]:
    """An SftpMailbox on that server, its mailbox emptied first."""
    empty_mailbox(plain_rename_sshd)
    with mailbox_on(
        plain_rename_sshd, plain_rename_sshd.port, plain_rename_sshd.known_hosts, attempts=3
    ) as box:
        yield box


class TestWithoutPosixRename:
    """Without posix-rename a put still lands, replacing only a file that is ours to replace."""

    def test_the_server_really_denies_posix_rename(self, plain_rename_sshd: SshdServer) -> None:
        """The harness works: posix-rename is refused, plain rename onto an existing file fails."""
        inbound = plain_rename_sshd.mailbox_dir / FOLDER
        empty_mailbox(plain_rename_sshd)
        (inbound / "a").write_bytes(b"a")
        (inbound / "b").write_bytes(b"b")
        client = paramiko.SSHClient()
        client.load_host_keys(str(plain_rename_sshd.known_hosts))
        client.connect(
            plain_rename_sshd.host,
            port=plain_rename_sshd.port,
            username=plain_rename_sshd.username,
            key_filename=str(plain_rename_sshd.user_key),
            allow_agent=False,
            look_for_keys=False,
            timeout=10,
        )
        try:
            sftp = client.open_sftp()
            with pytest.raises(PermissionError):
                sftp.posix_rename("/mailbox/inbound/a", "/mailbox/inbound/b")
            with pytest.raises(OSError, match="Failure"):
                sftp.rename("/mailbox/inbound/a", "/mailbox/inbound/b")
        finally:
            client.close()
        assert (inbound / "b").read_bytes() == b"b"

    def test_new_file_is_renamed_into_place(
        self, plain_box: SftpMailbox, plain_rename_sshd: SshdServer
    ) -> None:
        """A put of a new name lands by plain rename, with no temporary file left."""
        plain_box.put(FOLDER, "f.x12", b"ISA*new")
        inbound = plain_rename_sshd.mailbox_dir / FOLDER
        assert os.listdir(inbound) == ["f.x12"]
        assert (inbound / "f.x12").read_bytes() == b"ISA*new"

    def test_own_file_is_replaced_by_remove_then_rename(
        self, plain_box: SftpMailbox, plain_rename_sshd: SshdServer
    ) -> None:
        """Our earlier upload of the same name is replaced; posix-rename is asked for only once."""
        inbound = plain_rename_sshd.mailbox_dir / FOLDER
        with capture_logs() as logs:
            plain_box.put(FOLDER, "f.x12", b"ISA*first and longer")
            plain_box.put(FOLDER, "f.x12", b"ISA*second")
            plain_box.put(FOLDER, "f.x12", b"ISA*third")
        assert (inbound / "f.x12").read_bytes() == b"ISA*third"
        assert os.listdir(inbound) == ["f.x12"]
        assert len(events(logs, "mailbox_posix_rename_refused")) == 1
        assert len(events(logs, "mailbox_posix_rename_unavailable")) == 1
        assert len(events(logs, "mailbox_replaced_without_posix_rename")) == 2

    def test_another_accounts_file_is_not_replaced(
        self, plain_box: SftpMailbox, plain_rename_sshd: SshdServer
    ) -> None:
        """A file under the name that belongs to another account is left alone: a clear TransferError."""
        target = plain_rename_sshd.mailbox_dir / FOLDER / "f.x12"
        target.write_bytes(b"ISA*theirs")
        os.chown(target, 65534, 65534)
        with capture_logs() as logs, pytest.raises(TransferError) as info:
            plain_box.put(FOLDER, "f.x12", b"ISA*ours")
        assert "another account" in str(info.value)
        assert "put inbound/f.x12" in str(info.value)
        assert not info.value.transient
        assert events(logs, "mailbox_retry") == []
        assert target.read_bytes() == b"ISA*theirs"
        assert os.listdir(target.parent) == ["f.x12"]

    def test_a_folder_under_the_name_is_not_replaced(
        self, plain_box: SftpMailbox, plain_rename_sshd: SshdServer
    ) -> None:
        """A folder where the file should go is refused, not removed."""
        inbound = plain_rename_sshd.mailbox_dir / FOLDER
        (inbound / "f.x12").mkdir()
        with pytest.raises(TransferError, match="not a regular file"):
            plain_box.put(FOLDER, "f.x12", b"ISA*")
        assert (inbound / "f.x12").is_dir()
        assert os.listdir(inbound) == ["f.x12"]

    def test_archive_replaces_an_older_copy(
        self, plain_box: SftpMailbox, plain_rename_sshd: SshdServer
    ) -> None:
        """Archiving a file whose older copy is already in archive/ replaces that copy."""
        inbound = plain_rename_sshd.mailbox_dir / FOLDER
        (inbound / "archive").mkdir()
        (inbound / "archive" / "835.x12").write_bytes(b"ISA*old")
        (inbound / "835.x12").write_bytes(b"ISA*new")
        plain_box.archive(FOLDER, "835.x12")
        assert os.listdir(inbound) == ["archive"]
        assert (inbound / "archive" / "835.x12").read_bytes() == b"ISA*new"
