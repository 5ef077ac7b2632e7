"""The clearinghouse mailbox over SFTP (paramiko), with host-key checking and retries (tenacity).

One SSH connection is opened on first use and kept until ``close()``. Every operation runs under a
tenacity retry: a transient fault (socket error, timeout, EOF, SSH protocol error, a short read)
drops the connection, waits with exponential backoff, reconnects and runs the whole operation
again. Host-key and authentication failures, refused operations and unsafe names are never retried.
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

from transports.base import ARCHIVE_FOLDER, RemoteFile, check_folder, check_name, part_name
from transports.errors import (
    AuthError,
    ConnectError,
    HostKeyError,
    SizeMismatch,
    TransferError,
    TransportError,
)

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
    or a path relative to the login directory). ``timeout`` (seconds) bounds the TCP connect, the
    banner, authentication, opening the channel, and every SFTP request. ``attempts`` is the total
    number of tries for an operation; waits between them grow from ``backoff`` seconds.
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
        try:
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
            )
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(self.timeout)
        except HostKeyError:
            client.close()
            raise
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                f"host key of {exc.hostname} ({exc.key.get_name()} {exc.key.fingerprint}) does not match "
                f"{self.known_hosts_path} (expected {exc.expected_key.fingerprint}); refusing to connect. "
                f"If the clearinghouse really changed its key, confirm the new fingerprint with them and "
                f"replace the entry"
            ) from exc
        except paramiko.AuthenticationException as exc:
            client.close()
            raise AuthError(
                f"{self.username}@{where} refused key {self.private_key_path} ({exc}); "
                f"check the user name and that the public key is installed on the server"
            ) from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            client.close()
            raise ConnectError(f"cannot connect to {where}: {exc or type(exc).__name__}") from exc
        self._client, self._sftp = client, sftp
        self._posix_rename = True
        _log.info("mailbox_connect", host=self.host, port=self.port, username=self.username)
        return sftp

    def _alive(self) -> bool:
        transport = self._client.get_transport() if self._client else None
        return bool(transport and transport.is_active())

    def _drop(self) -> None:
        sftp, client = self._sftp, self._client
        self._sftp = self._client = None
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
        self._drop()

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

    def _translate(self, exc: BaseException, action: str) -> TransportError:
        """Turn a paramiko/socket failure during ``action`` into the matching TransportError."""
        if isinstance(exc, TimeoutError):
            return ConnectError(f"{action} on {self.host}:{self.port} timed out after {self.timeout}s")
        if isinstance(exc, EOFError | paramiko.SSHException | ConnectionError) or not self._alive():
            return ConnectError(f"{action} on {self.host}:{self.port}: connection lost ({exc!r})")
        if isinstance(exc, OSError) and exc.errno == errno.ENOENT:
            return TransferError(f"{action} on {self.host}:{self.port}: no such file or folder")
        if isinstance(exc, OSError) and exc.errno == errno.EACCES:
            return TransferError(f"{action} on {self.host}:{self.port}: permission denied")
        return TransferError(f"{action} on {self.host}:{self.port} failed: {exc}")

    def _attempt(self, action: str, fn: Callable[[paramiko.SFTPClient], T]) -> T:
        sftp = self._sftp if self._sftp is not None and self._alive() else self._connect()
        try:
            return fn(sftp)
        except TransportError as exc:
            error: TransportError = exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            error = self._translate(exc, action)
            error.__cause__ = exc
        if isinstance(error, ConnectError):
            self._drop()
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

    def _rename(self, sftp: paramiko.SFTPClient, src: str, dst: str) -> None:
        """Rename ``src`` onto ``dst``, replacing it: posix-rename@openssh.com, else rename."""
        if self._posix_rename:
            try:
                sftp.posix_rename(src, dst)
                return
            except OSError as exc:
                # paramiko does not expose the server's extension list: fall back when the
                # server says it cannot do this (no errno); real refusals carry one.
                if exc.errno is not None or not self._alive():
                    raise
                if "unsupported" in str(exc).lower():
                    self._posix_rename = False
                _log.debug("mailbox_posix_rename_unavailable", host=self.host, reason=str(exc))
        try:
            sftp.rename(src, dst)
        except OSError as exc:
            # Plain SFTP rename refuses to replace an existing file: remove it, then rename.
            if exc.errno is not None or not self._alive():
                raise
            sftp.remove(dst)
            sftp.rename(src, dst)

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
        """Write ``data`` to ``.NAME.part`` in ``folder``, check its size, then rename it onto ``NAME``."""
        directory = self._dir(folder)
        final = posixpath.join(directory, check_name(name))
        tmp = posixpath.join(directory, part_name(name))

        def op(sftp: paramiko.SFTPClient) -> None:
            with sftp.open(tmp, "wb") as fh:
                with contextlib.suppress(OSError):  # some servers refuse chmod; the data still goes
                    fh.chmod(0o600)
                fh.set_pipelined(True)
                fh.write(data)
            written = sftp.stat(tmp).st_size
            if written != len(data):
                raise SizeMismatch(
                    f"put {folder}/{name} on {self.host}: server holds {written} bytes, sent {len(data)}"
                )
            self._rename(sftp, tmp, final)

        self._run("put", folder, name, op)
        _log.info("mailbox_put", host=self.host, folder=folder, name=name, size=len(data))

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
        """Move ``folder/name`` to ``folder/archive/name``; a file already moved there is left as is."""
        directory = self._dir(folder)
        src = posixpath.join(directory, check_name(name))
        archive_dir = posixpath.join(directory, ARCHIVE_FOLDER)
        dst = posixpath.join(archive_dir, name)

        def op(sftp: paramiko.SFTPClient) -> None:
            if self._stat(sftp, src) is None:
                if self._stat(sftp, dst) is not None:
                    return  # moved by an earlier attempt whose reply was lost
                raise TransferError(f"archive {folder}/{name} on {self.host}: no such file")
            if self._stat(sftp, archive_dir) is None:
                sftp.mkdir(archive_dir, mode=0o700)
            self._rename(sftp, src, dst)

        self._run("archive", folder, name, op)
        _log.info("mailbox_archive", host=self.host, folder=folder, name=name)

    def _stat(self, sftp: paramiko.SFTPClient, path: str) -> Any:
        """``sftp.stat(path)``, or None when the server says there is no such file."""
        try:
            return sftp.stat(path)
        except OSError as exc:
            if exc.errno == errno.ENOENT and self._alive():
                return None
            raise
