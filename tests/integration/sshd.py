"""A real OpenSSH sshd for tests: 127.0.0.1, a free port, its own keys, a chrooted SFTP mailbox.

``running_sshd()`` starts ``/usr/sbin/sshd -D -e -f CONFIG`` with everything under a fresh
root-owned folder ``/var/lib/edi-test-sshd/<random>/`` (sshd refuses keys and chroots below
world-writable folders such as /tmp), and removes it again afterwards::

    <root>/sshd_config  ssh_host_ed25519_key(.pub)  id_ed25519(.pub)  authorized_keys
    <root>/known_hosts  sshd.log  sshd.pid
    <root>/chroot/             root-owned 0755: the ChrootDirectory
    <root>/chroot/mailbox/     the login user's folder: SFTP path /mailbox

The login user is root (``PermitRootLogin prohibit-password``: keys only) with
``ForceCommand internal-sftp``, so nothing is added to the system's users. Needs root and
openssh-server; ``unavailable_reason()`` says why not when either is missing.

For fault tests: ``start_sshd(sftp_flags="-P posix-rename")`` gives a server whose sftp-server
denies requests (``man sftp-server``), and ``SshdServer.mount_tmpfs()`` puts a tiny filesystem
under the mailbox (a full disk). ``stop()`` unmounts what is still mounted, ends every session
(children before their parents, so none is left behind as an orphan) and removes the folder.
``StallProxy`` is a loopback TCP proxy to put in front of a server, to make it slow or silent.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SSHD",
    "MountRefused",
    "SshdServer",
    "StallProxy",
    "generate_key",
    "running_sshd",
    "start_sshd",
    "unavailable_reason",
]

SSHD = Path("/usr/sbin/sshd")
STATE_ROOT = Path("/var/lib/edi-test-sshd")
HOST = "127.0.0.1"
BASE = "/mailbox"


def unavailable_reason() -> str | None:
    """Why a test sshd cannot run here, or None when it can."""
    if not SSHD.exists():
        return f"{SSHD} not found: install openssh-server to run the SFTP mailbox tests"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen not found: install openssh-client"
    if os.geteuid() != 0:
        return "the sshd harness must run as root (sshd needs a root-owned chroot)"
    return None


def generate_key(path: Path, *, passphrase: str = "", comment: str = "edi-test") -> str:
    """Write a new ed25519 key pair at ``path`` (+ ``.pub``) and return the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_name(path.name + ".pub").read_text().strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited (reaped, or a zombie waiting for its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


class MountRefused(RuntimeError):
    """The tmpfs for a full-disk test could not be mounted (no privilege to mount here)."""


@dataclass
class SshdServer:
    """A running test sshd and the files a client needs to reach it."""

    root: Path
    port: int
    username: str
    user_key: Path
    known_hosts: Path
    host_key_line: str
    mailbox_dir: Path
    log_path: Path
    host: str = HOST
    base: str = BASE
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _mounts: list[Path] = field(default_factory=list, repr=False)

    @property
    def url(self) -> str:
        """The ``sftp://`` URL of the mailbox."""
        return f"sftp://{self.username}@{self.host}:{self.port}{self.base}"

    @property
    def pid(self) -> int:
        """The listening sshd's process id."""
        assert self._proc is not None
        return self._proc.pid

    def session_pids(self) -> list[int]:
        """The processes sshd forked for open connections (monitor and session children)."""
        return _descendants(self.pid)

    def kill_sessions(self) -> int:
        """SIGKILL every connection's sshd processes, cutting the clients off; returns how many.

        The deepest processes go first and each is waited for (up to 2 s), so its parent is still
        there to reap it: none is orphaned to init, which does not reap here.
        """
        pids = self.session_pids()
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 2
            while not _gone(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
        return len(pids)

    def mount_tmpfs(self, folder: str, size: str = "256k") -> Path:
        """Mount a fresh tmpfs of ``size`` at ``mailbox/folder`` (made if needed); MountRefused if
        this machine does not let us mount. ``unmount()`` or ``stop()`` takes it away again."""
        target = self.mailbox_dir / folder
        target.mkdir(mode=0o700, exist_ok=True)
        pw = pwd.getpwnam(self.username)
        result = subprocess.run(
            [
                "mount",
                "-t",
                "tmpfs",
                "-o",
                f"size={size},mode=0700,uid={pw.pw_uid},gid={pw.pw_gid}",
                "tmpfs",
                str(target),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise MountRefused(
                f"cannot mount a tmpfs at {target}: {result.stderr.strip() or result.returncode}"
            )
        self._mounts.append(target)
        return target

    def unmount(self, target: Path) -> None:
        """Unmount a tmpfs from ``mount_tmpfs`` (lazily if it is busy) and remove its folder."""
        if target in self._mounts:
            self._mounts.remove(target)
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True, check=True)
        target.rmdir()

    def log(self) -> str:
        """What sshd has written to stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop sshd and its sessions, unmount what is still mounted, and remove the state folder."""
        try:
            for target in list(self._mounts):
                self.unmount(target)
        finally:
            if self._proc is not None:
                self.kill_sessions()
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=5)
                self._proc = None
            shutil.rmtree(self.root, ignore_errors=True)


def _config(root: Path, port: int, username: str, sftp_flags: str, extra: list[str]) -> str:
    lines = [
        f"Port {port}",
        f"ListenAddress {HOST}",
        f"HostKey {root / 'ssh_host_ed25519_key'}",
        f"PidFile {root / 'sshd.pid'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        "AuthenticationMethods publickey",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        "StrictModes yes",
        f"AllowUsers {username}",
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "X11Forwarding no",
        "PermitTTY no",
        "MaxStartups 100",
        "LoginGraceTime 30",
        "LogLevel VERBOSE",
        "Subsystem sftp internal-sftp",
        f"ChrootDirectory {root / 'chroot'}",
        f"ForceCommand internal-sftp -u 0077 {sftp_flags}".rstrip(),
        *extra,
    ]
    return "\n".join(lines) + "\n"


def _config_ok(config: Path) -> bool:
    return subprocess.run([str(SSHD), "-t", "-f", str(config)], capture_output=True).returncode == 0


def _wait_ready(proc: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-2.0-"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def start_sshd(username: str = "root", *, sftp_flags: str = "") -> SshdServer:
    """Set up a fresh state folder and start sshd on a free port; raises RuntimeError if it fails.

    ``sftp_flags`` are added to ``internal-sftp`` (e.g. ``-P posix-rename`` to deny that request).
    """
    reason = unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    STATE_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(STATE_ROOT, 0o755)
    root = STATE_ROOT / secrets.token_hex(6)
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    try:
        host_pub = generate_key(root / "ssh_host_ed25519_key", comment="edi-test-host")
        user_pub = generate_key(root / "id_ed25519", comment="edi-test-user")
        authorized = root / "authorized_keys"
        authorized.write_text(user_pub + "\n")
        authorized.chmod(0o600)
        chroot = root / "chroot"
        chroot.mkdir(mode=0o755)
        os.chmod(chroot, 0o755)
        mailbox = chroot / BASE.lstrip("/")
        mailbox.mkdir(mode=0o755)
        pw = pwd.getpwnam(username)
        os.chown(mailbox, pw.pw_uid, pw.pw_gid)
        host_key_line = " ".join(host_pub.split()[:2])
        log_path = root / "sshd.log"
        config = root / "sshd_config"
        for _ in range(5):
            port = _free_port()
            # Newer OpenSSH (9.8+) penalises sources whose sessions crash or fail auth; the tests
            # do both on purpose, so exempt loopback where the option exists.
            exempt = ["PerSourcePenaltyExemptList 127.0.0.1"]
            config.write_text(_config(root, port, username, sftp_flags, exempt))
            if not _config_ok(config):
                config.write_text(_config(root, port, username, sftp_flags, []))
            with log_path.open("ab") as log:
                proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=log, stdout=log)
            if _wait_ready(proc, port, time.monotonic() + 10):
                known_hosts = root / "known_hosts"
                known_hosts.write_text(f"[{HOST}]:{port} {host_key_line}\n")
                return SshdServer(
                    root=root,
                    port=port,
                    username=username,
                    user_key=root / "id_ed25519",
                    known_hosts=known_hosts,
                    host_key_line=host_key_line,
                    mailbox_dir=mailbox,
                    log_path=log_path,
                    _proc=proc,
                )
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=5)
        raise RuntimeError(f"sshd did not start; its log:\n{log_path.read_text(errors='replace')}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


@contextlib.contextmanager
def running_sshd(username: str = "root", *, sftp_flags: str = "") -> Iterator[SshdServer]:
    """A started sshd, stopped and removed on exit."""
    server = start_sshd(username, sftp_flags=sftp_flags)
    try:
        yield server
    finally:
        server.stop()


# -- a loopback proxy that makes a server slow or silent -------------------------------------------


@dataclass
class _Pair:
    """One proxied connection: the client's socket, the socket to sshd, and its state."""

    client: socket.socket
    server: socket.socket
    stalled: bool = False
    moved: dict[str, int] = field(default_factory=lambda: {"to_server": 0, "to_client": 0})

    def close(self) -> None:
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class StallProxy:
    """A loopback TCP proxy in front of the test sshd that can slow down or stall the traffic.

    ``delay``: seconds each chunk from the server is held before the client gets it.
    ``stall()``: every connection, open or new, stops moving bytes both ways (they wait in the
    kernel buffers, as with a server that stopped answering). ``stall_after(to_server=N)`` (or
    ``to_client``): the next connection to move N bytes that way stalls. The proxy stops itself
    after ``lifetime`` seconds and on ``close()``, closing every connection.
    """

    def __init__(self, upstream: tuple[str, int], *, lifetime: float = 60.0) -> None:
        self.upstream = upstream
        self.delay = 0.0
        self._stall_new = False
        self._limits: dict[str, int | None] = {"to_server": None, "to_client": None}
        self._deadline = time.monotonic() + lifetime
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[_Pair] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._spawn(self._accept_loop)

    @property
    def connections(self) -> int:
        """How many connections the proxy has accepted."""
        return len(self._pairs)

    def stall(self) -> None:
        with self._lock:
            self._stall_new = True
            for pair in self._pairs:
                pair.stalled = True

    def stall_after(self, *, to_server: int | None = None, to_client: int | None = None) -> None:
        self._limits = {"to_server": to_server, "to_client": to_client}

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _done(self) -> bool:
        return self._stop.is_set() or time.monotonic() > self._deadline

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="stall-proxy")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        try:
            while not self._done():
                if not select.select([self._listener], [], [], 0.05)[0]:
                    continue
                client, _ = self._listener.accept()
                try:
                    server = socket.create_connection(self.upstream, timeout=5)
                except OSError:
                    client.close()
                    continue
                server.settimeout(None)
                with self._lock:
                    pair = _Pair(client, server, stalled=self._stall_new)
                    self._pairs.append(pair)
                self._spawn(self._pump, pair, client, server, "to_server")
                self._spawn(self._pump, pair, server, client, "to_client")
        finally:
            self._listener.close()
            with self._lock:
                for pair in self._pairs:
                    pair.close()

    def _flowing(self, pair: _Pair) -> bool:
        """Wait while ``pair`` is stalled; False once the proxy is stopping."""
        while pair.stalled and not self._done():
            time.sleep(0.02)
        return not self._done()

    def _pump(self, pair: _Pair, src: socket.socket, dst: socket.socket, direction: str) -> None:
        try:
            while self._flowing(pair):
                if not select.select([src], [], [], 0.05)[0]:
                    continue
                data = src.recv(65536)
                if not data:
                    break
                if direction == "to_client" and self.delay and self._stop.wait(self.delay):
                    break
                if not self._flowing(pair):
                    break
                dst.sendall(data)
                pair.moved[direction] += len(data)
                limit = self._limits[direction]
                if limit is not None and pair.moved[direction] >= limit:
                    self._limits[direction] = None
                    pair.stalled = True
        except OSError:
            pass
        finally:
            pair.close()
