"""The clearinghouse mailbox over SFTP (paramiko), with host-key checking and retries (tenacity).

One SSH connection is opened on first use and kept until ``close()``. Every operation runs under a
tenacity retry: a transient fault (socket error, timeout, EOF, SSH protocol error, a short read)
drops the connection, waits with exponential backoff, reconnects and runs the whole operation
again. Host-key and authentication failures, refused operations and unsafe names are never retried.

Faults the server can put us in, and what the mailbox does (tests/integration/test_sftp_faults.py):

- A server that stops answering: no wait lasts longer than ``timeout`` seconds without a byte moving
  (paramiko's own timeouts, and the stall watchdog of transports/watchdog.py for the waits paramiko
  leaves open); the operation fails with ConnectError and is retried on a new connection.
- A full disk: the upload's temporary file is removed and DiskFull names the file; nothing is
  stored under the final name and the connection stays usable.
- No ``posix-rename@openssh.com`` (unsupported or denied): a plain rename, and when the final name
  already exists, remove-then-rename (see ``_replace`` for when it refuses).
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import posixpath
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import paramiko
import structlog
import tenacity
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY

from transports.base import ARCHIVE_FOLDER, RemoteFile, check_folder, check_name, part_name
from transports.errors import (
    AuthError,
    ConnectError,
    DiskFull,
    HostKeyError,
    SizeMismatch,
    TransferError,
    TransportError,
)
from transports.watchdog import Link

__all__ = ["SftpMailbox"]

_log = structlog.get_logger("transports")

T = TypeVar("T")


class _RefuseUnknownHost(paramiko.RejectPolicy):  # type: ignore[misc]
    """RejectPolicy that raises HostKeyError with what to do, and never touches known_hosts."""

    def __init__(self, known_hosts: Path) -> None:
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyError(
            f"host key of {hostname} ({key.get_name()} {key.fingerprint}) is not in {self.known_hosts}; "
            f"confirm the fingerprint with the clearinghouse, then add the key to that file "
            f"(e.g. ssh-keyscan output); unknown keys are never accepted automatically"
        )


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) and exc.transient


class SftpMailbox:
    """A mailbox on an SFTP server; key authentication only, host key checked against known_hosts.

    ``base`` is the server-side folder all folder names are relative to (``/mailbox`` in a chroot,
    or a path relative to the login directory). ``timeout`` (seconds) bounds every wait on the
    server: the TCP connect, the banner and key exchange, authentication, opening the SFTP channel,
    each SFTP request, and any stretch of a transfer in which no byte moves. ``attempts`` is the
    total number of tries for an operation; waits between them grow from ``backoff`` seconds. A
    server that stops answering therefore fails an operation after about ``attempts`` x
    ``timeout`` seconds plus the backoff waits.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        base: str,
        private_key_path: str | os.PathLike[str],
        known_hosts_path: str | os.PathLike[str],
        passphrase: str | None = None,
        timeout: float = 30.0,
        *,
        attempts: int = 4,
        backoff: float = 1.0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.base = base or "."
        self.private_key_path = Path(private_key_path)
        self.known_hosts_path = Path(known_hosts_path)
        self._passphrase = passphrase
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._link: Link | None = None
        self._posix_rename = True

    def __repr__(self) -> str:
        return f"SftpMailbox({self.username}@{self.host}:{self.port}{self.base})"

    # -- connection -------------------------------------------------------------------------------

    def _load_key(self) -> paramiko.PKey:
        password = self._passphrase.encode() if self._passphrase is not None else None
        try:
            try:
                return paramiko.PKey.from_path(self.private_key_path, password=password)
            except TypeError:  # cryptography: a passphrase is missing, or given for a plain key
                if password is None:
                    raise AuthError(
                        f"private key {self.private_key_path} is encrypted; give its passphrase"
                    ) from None
                return paramiko.PKey.from_path(self.private_key_path, password=None)
        except (OSError, paramiko.SSHException, ValueError, TypeError) as exc:
            raise AuthError(f"cannot load private key {self.private_key_path}: {exc}") from exc

    def _connect(self) -> paramiko.SFTPClient:
        key = self._load_key()
        client = paramiko.SSHClient()
        try:
            client.load_host_keys(str(self.known_hosts_path))
        except OSError as exc:
            raise HostKeyError(
                f"cannot read known_hosts file {self.known_hosts_path}: {exc.strerror}; "
                f"create it with the host key of {self.host}"
            ) from exc
        client.set_missing_host_key_policy(_RefuseUnknownHost(self.known_hosts_path))
        where = f"{self.host}:{self.port}"
        link = Link(self.timeout)
        try:
            with link.watch():  # the subsystem start and the SFTP version exchange have no timeout
                client.connect(
                    self.host,
                    port=self.port,
                    username=self.username,
                    pkey=key,
                    timeout=self.timeout,
                    banner_timeout=self.timeout,
                    auth_timeout=self.timeout,
                    channel_timeout=self.timeout,
                    allow_agent=False,
                    look_for_keys=False,
                    transport_factory=link.transport_factory,
                )
                sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except BaseException as exc:
            error = self._connect_error(exc, where, link, client)
            link.cut()
            client.close()
            if error is exc:
                raise
            raise error from exc
        self._client, self._sftp, self._link = client, sftp, link
        self._posix_rename = True
        _log.info("mailbox_connect", host=self.host, port=self.port, username=self.username)
        return sftp

    def _connect_error(
        self, exc: BaseException, where: str, link: Link, client: paramiko.SSHClient
    ) -> BaseException:
        """The TransportError a failed connect stands for (anything else is passed on as it is).

        paramiko reports a connection lost or timed out during authentication as an
        AuthenticationException too: that one is a (transient) ConnectError, not an AuthError.
        """
        if isinstance(exc, HostKeyError):
            return exc
        if isinstance(exc, paramiko.BadHostKeyException):
            return HostKeyError(
                f"host key of {exc.hostname} ({exc.key.get_name()} {exc.key.fingerprint}) does not match "
                f"{self.known_hosts_path} (expected {exc.expected_key.fingerprint}); refusing to connect. "
                f"If the clearinghouse really changed its key, confirm the new fingerprint with them and "
                f"replace the entry"
            )
        transport = client.get_transport()
        cut_short = link.timed_out or transport is None or not transport.is_active()
        if isinstance(exc, paramiko.AuthenticationException) and not (cut_short or "timeout" in str(exc)):
            return AuthError(
                f"{self.username}@{where} refused key {self.private_key_path} ({exc}); "
                f"check the user name and that the public key is installed on the server"
            )
        if link.timed_out or isinstance(exc, TimeoutError):
            return ConnectError(
                f"cannot connect to {where}: no answer from the server within {self.timeout}s"
            )
        if isinstance(exc, OSError | EOFError | paramiko.SSHException):
            return ConnectError(f"cannot connect to {where}: {exc or type(exc).__name__}")
        return exc

    def _alive(self) -> bool:
        if self._link is not None and self._link.timed_out:
            return False
        channel = self._sftp.get_channel() if self._sftp is not None else None
        if channel is not None and channel.closed:
            return False  # the SFTP channel died first (paramiko says "Socket is closed"): not a refusal
        transport = self._client.get_transport() if self._client else None
        return bool(transport and transport.is_active())

    def _drop(self, *, hard: bool) -> None:
        """Forget the connection; ``hard`` cuts its socket first, so nothing waits on a stalled server."""
        sftp, client, link = self._sftp, self._client, self._link
        self._sftp = self._client = self._link = None
        if link is None:
            return
        if hard:
            link.cut()
        with link.watch():  # even a polite goodbye waits on nothing longer than the timeout
            with contextlib.suppress(Exception):
                if sftp is not None:
                    sftp.close()
            with contextlib.suppress(Exception):
                if client is not None:
                    client.close()

    def close(self) -> None:
        """Close the SFTP session and the SSH connection; a later operation reconnects."""
        if self._client is not None:
            _log.debug("mailbox_disconnect", host=self.host, port=self.port)
        self._drop(hard=False)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- retries ----------------------------------------------------------------------------------

    def _timed_out(self) -> bool:
        return self._link is not None and self._link.timed_out

    def _refusal(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the server answering a request with an error (the connection is fine)."""
        return (
            isinstance(exc, OSError) and not isinstance(exc, TimeoutError | ConnectionError) and self._alive()
        )

    def _translate(self, exc: BaseException, action: str) -> TransportError:
        """Turn a paramiko/socket failure during ``action`` into the matching TransportError."""
        where = f"{self.host}:{self.port}"
        if isinstance(exc, TimeoutError) or self._timed_out():
            return ConnectError(f"{action} on {where} timed out after {self.timeout}s without an answer")
        if isinstance(exc, EOFError | paramiko.SSHException | ConnectionError) or not self._alive():
            return ConnectError(f"{action} on {where}: connection lost ({exc!r})")
        if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
            return TransferError(f"{action} on {where}: no such file or folder")
        if isinstance(exc, OSError) and exc.errno == errno.EACCES:
            return TransferError(f"{action} on {where}: permission denied")
        return TransferError(f"{action} on {where} failed: {exc}")

    def _attempt(self, action: str, fn: Callable[[paramiko.SFTPClient], T]) -> T:
        try:
            if self._sftp is None or self._link is None or not self._alive():
                self._drop(hard=True)
                self._connect()
            assert self._sftp is not None and self._link is not None
            with self._link.watch():
                return fn(self._sftp)
        except TransportError as exc:
            error: TransportError = exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            error = self._translate(exc, action)
            error.__cause__ = exc
        if self._timed_out() and not isinstance(error, ConnectError):
            cause, error = error, self._translate(TimeoutError(), action)
            error.__cause__ = cause
        if isinstance(error, ConnectError):
            self._drop(hard=True)
        raise error

    def _run(self, op: str, folder: str, name: str | None, fn: Callable[[paramiko.SFTPClient], T]) -> T:
        action = f"{op} {posixpath.join(folder, name) if name else folder or '.'}"

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            _log.warning(
                "mailbox_retry",
                op=op,
                folder=folder,
                name=name,
                attempt=state.attempt_number,
                wait=round(state.next_action.sleep, 3) if state.next_action else None,
                error=type(exc).__name__,
                reason=str(exc),
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.backoff, min=self.backoff, max=self.backoff * 16),
            retry=tenacity.retry_if_exception(_is_transient),
            before_sleep=before_sleep,
            reraise=True,
        )
        result: T = retrying(self._attempt, action, fn)
        return result

    # -- paths ------------------------------------------------------------------------------------

    def _dir(self, folder: str) -> str:
        folder = check_folder(folder)
        return posixpath.join(self.base, folder) if folder else self.base

    def _stat(self, sftp: paramiko.SFTPClient, path: str) -> Any:
        """``sftp.stat(path)``, or None when the server says there is no such file."""
        try:
            return sftp.stat(path)
        except OSError as exc:
            if exc.errno == errno.ENOENT and self._alive():
                return None
            raise

    def _free_bytes(self, sftp: paramiko.SFTPClient, directory: str) -> int | None:
        """Bytes free for us on the server's filesystem holding ``directory`` (statvfs@openssh.com),
        or None when the server cannot say."""
        try:
            kind, msg = sftp._request(CMD_EXTENDED, "statvfs@openssh.com", directory)
        except OSError as exc:
            if self._refusal(exc):
                return None
            raise
        if kind != CMD_EXTENDED_REPLY:
            return None
        _bsize, frsize, _blocks, _bfree, bavail = (msg.get_int64() for _ in range(5))
        return int(frsize * bavail)

    # -- renames ----------------------------------------------------------------------------------

    def _rename(self, sftp: paramiko.SFTPClient, src: str, dst: str, action: str) -> None:
        """Move ``src`` onto ``dst``, replacing it.

        posix-rename@openssh.com replaces atomically. A server without it (the extension refused
        or denied, ``sftp-server -P posix-rename``) gets a plain SFTP rename, which OpenSSH does
        without a window but refuses when ``dst`` exists; then ``_replace``. Once that fallback has
        worked, posix-rename is not asked for again on this connection.
        """
        tried_posix = self._posix_rename
        if tried_posix:
            try:
                sftp.posix_rename(src, dst)
                return
            except OSError as exc:
                # Unsupported (no errno) or denied (EACCES, also a plain permission problem: then
                # the plain rename below is refused too); any other answer is the server's verdict.
                unavailable = exc.errno == errno.EACCES or "unsupported" in str(exc).lower()
                if not (self._refusal(exc) and unavailable):
                    raise
                _log.debug("mailbox_posix_rename_refused", host=self.host, reason=str(exc))
        try:
            sftp.rename(src, dst)
        except OSError as exc:
            # OpenSSH answers a rename onto an existing file with a bare failure (no errno);
            # a missing file or a permission problem carries one and is a real refusal.
            if not self._refusal(exc) or exc.errno is not None:
                raise
            self._replace(sftp, src, dst, action)
        if tried_posix:
            self._posix_rename = False
            _log.info("mailbox_posix_rename_unavailable", host=self.host, port=self.port)

    def _replace(self, sftp: paramiko.SFTPClient, src: str, dst: str, action: str) -> None:
        """Remove ``dst``, then rename ``src`` onto it: for servers without posix-rename.

        Only when ``dst`` is a regular file owned by the same account as ``src`` (ours to replace);
        a folder, a link or another account's file is refused with TransferError. Not atomic:
        between the remove and the rename the name is briefly absent (a reader sees no file, never
        a partial one); if the rename then fails, the data is still under ``src``.
        """
        where, target = f"{self.host}:{self.port}", posixpath.basename(dst)
        old, new = self._lstat(sftp, dst), self._lstat(sftp, src)
        if old is None or new is None:
            raise TransferError(f"{action} on {where}: the server refused to rename it onto {target}")
        if old.st_mode is None or not stat.S_ISREG(old.st_mode):
            raise TransferError(
                f"{action} on {where}: {target} exists and is not a regular file; the server has no "
                f"posix-rename, so it is not replaced"
            )
        if old.st_uid != new.st_uid:
            raise TransferError(
                f"{action} on {where}: {target} belongs to another account (uid {old.st_uid}); the server "
                f"has no posix-rename, so it is not removed to make way"
            )
        sftp.remove(dst)
        sftp.rename(src, dst)
        _log.info("mailbox_replaced_without_posix_rename", host=self.host, name=target)

    def _lstat(self, sftp: paramiko.SFTPClient, path: str) -> Any:
        try:
            return sftp.lstat(path)
        except OSError as exc:
            if exc.errno == errno.ENOENT and self._alive():
                return None
            raise

    # -- the Mailbox protocol ---------------------------------------------------------------------

    def list(self, folder: str) -> builtins.list[RemoteFile]:
        """The regular, non-hidden files in ``folder``, sorted by name."""
        path = self._dir(folder)

        def op(sftp: paramiko.SFTPClient) -> builtins.list[RemoteFile]:
            files = [
                RemoteFile(a.filename, int(a.st_size or 0), datetime.fromtimestamp(a.st_mtime or 0, UTC))
                for a in sftp.listdir_attr(path)
                if not a.filename.startswith(".") and a.st_mode is not None and stat.S_ISREG(a.st_mode)
            ]
            return sorted(files, key=lambda f: f.name)

        files = self._run("list", folder, None, op)
        _log.debug("mailbox_list", host=self.host, folder=folder, count=len(files))
        return files

    def get(self, folder: str, name: str) -> bytes:
        """The file's bytes; a read shorter or longer than the size the server reports is retried."""
        path = posixpath.join(self._dir(folder), check_name(name))

        def op(sftp: paramiko.SFTPClient) -> bytes:
            with sftp.open(path, "rb") as fh:
                size = int(fh.stat().st_size or 0)
                fh.prefetch(size)
                data: bytes = fh.read()
            if len(data) != size:
                raise SizeMismatch(
                    f"get {folder}/{name} on {self.host}: read {len(data)} bytes, server lists {size}"
                )
            return data

        data = self._run("get", folder, name, op)
        _log.info("mailbox_get", host=self.host, folder=folder, name=name, size=len(data))
        return data

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Write ``data`` to ``.NAME.part`` in ``folder``, check its size, then rename it onto ``NAME``.

        When the server refuses (full disk, no rename) the temporary file is removed; after a lost
        connection it may stay behind (hidden from ``list``) and the next put overwrites it.
        """
        directory = self._dir(folder)
        final = posixpath.join(directory, check_name(name))
        tmp = posixpath.join(directory, part_name(name))
        action = f"put {folder}/{name}"

        def op(sftp: paramiko.SFTPClient) -> None:
            try:
                self._upload(sftp, tmp, data, action)
                self._rename(sftp, tmp, final, action)
            except BaseException:
                self._discard(sftp, tmp)
                raise

        self._run("put", folder, name, op)
        _log.info("mailbox_put", host=self.host, folder=folder, name=name, size=len(data))

    def _upload(self, sftp: paramiko.SFTPClient, tmp: str, data: bytes, action: str) -> None:
        """Write ``data`` to ``tmp`` (0600) and check the server holds all of it."""
        try:
            with sftp.open(tmp, "wb") as fh:
                try:
                    fh.chmod(0o600)
                except OSError as exc:  # some servers refuse chmod; the data still goes
                    if not self._refusal(exc):
                        raise
                fh.set_pipelined(True)
                fh.write(data)
        except OSError as exc:
            if not self._refusal(exc) or exc.errno is not None:
                raise
            full = self._disk_full(sftp, tmp, len(data), 0, action)
            raise full or TransferError(
                f"{action} on {self.host}:{self.port}: the server refused the write ({exc}); "
                f"nothing was stored under that name"
            ) from exc
        # paramiko drops the answers to pipelined writes: a write the server refused shows here.
        written = int(sftp.stat(tmp).st_size or 0)
        if written != len(data):
            full = self._disk_full(sftp, tmp, len(data), written, action) if written < len(data) else None
            raise full or SizeMismatch(
                f"{action} on {self.host}: server holds {written} bytes, sent {len(data)}"
            )

    def _disk_full(
        self, sftp: paramiko.SFTPClient, tmp: str, size: int, written: int, action: str
    ) -> DiskFull | None:
        """DiskFull when the rest of an upload does not fit in the space left on the server."""
        free = self._free_bytes(sftp, posixpath.dirname(tmp))
        if free is None or free >= size - written:
            return None
        return DiskFull(
            f"{action} on {self.host}:{self.port}: no space left on the server ({free} bytes free, "
            f"{size} to write); nothing was stored under that name"
        )

    def _discard(self, sftp: paramiko.SFTPClient, tmp: str) -> None:
        """Remove a failed upload's temporary file, if the connection still answers."""
        if self._alive():
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                sftp.remove(tmp)

    def exists(self, folder: str, name: str) -> int | None:
        """The size of ``folder/name``, or None when there is no regular file of that name."""
        path = posixpath.join(self._dir(folder), check_name(name))

        def op(sftp: paramiko.SFTPClient) -> int | None:
            attrs = self._stat(sftp, path)
            if attrs is None or attrs.st_mode is None or not stat.S_ISREG(attrs.st_mode):
                return None
            return int(attrs.st_size or 0)

        return self._run("exists", folder, name, op)

    def archive(self, folder: str, name: str) -> None:
        """Move ``folder/name`` to ``folder/archive/name``; a file already moved there is left as is
        (also when another worker makes the archive folder or moves the file while we do)."""
        directory = self._dir(folder)
        src = posixpath.join(directory, check_name(name))
        archive_dir = posixpath.join(directory, ARCHIVE_FOLDER)
        dst = posixpath.join(archive_dir, name)

        def op(sftp: paramiko.SFTPClient) -> None:
            if self._stat(sftp, src) is None:
                if self._stat(sftp, dst) is not None:
                    return  # moved by an earlier attempt whose reply was lost, or by another worker
                raise TransferError(f"archive {folder}/{name} on {self.host}: no such file")
            if self._stat(sftp, archive_dir) is None:
                try:
                    sftp.mkdir(archive_dir, mode=0o700)
                except OSError as exc:
                    if not self._refusal(exc) or self._stat(sftp, archive_dir) is None:
                        raise
            try:
                self._rename(sftp, src, dst, f"archive {folder}/{name}")
            except (OSError, TransferError):
                if not self._alive() or self._stat(sftp, src) is not None or self._stat(sftp, dst) is None:
                    raise

        self._run("archive", folder, name, op)
        _log.info("mailbox_archive", host=self.host, folder=folder, name=name)
