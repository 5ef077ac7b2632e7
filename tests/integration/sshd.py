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
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SSHD", "SshdServer", "generate_key", "running_sshd", "start_sshd", "unavailable_reason"]

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
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


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
        """SIGKILL every connection's sshd processes, cutting the clients off; returns how many."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def log(self) -> str:
        """What sshd has written to stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop sshd and its sessions, and remove the whole state folder."""
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


def _config(root: Path, port: int, username: str, extra: list[str]) -> str:
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
        "ForceCommand internal-sftp -u 0077",
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


def start_sshd(username: str = "root") -> SshdServer:
    """Set up a fresh state folder and start sshd on a free port; raises RuntimeError if it fails."""
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
            config.write_text(_config(root, port, username, ["PerSourcePenaltyExemptList 127.0.0.1"]))
            if not _config_ok(config):
                config.write_text(_config(root, port, username, []))
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
def running_sshd(username: str = "root") -> Iterator[SshdServer]:
    """A started sshd, stopped and removed on exit."""
    server = start_sshd(username)
    try:
        yield server
    finally:
        server.stop()
