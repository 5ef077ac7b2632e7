"""Clearinghouse mailboxes: a local directory or an SFTP server, behind one ``Mailbox`` protocol.

>>> with open_mailbox("local:var/mailbox", base_dir=config_dir) as box:   # doctest: +SKIP
...     box.put("inbound", "837P_000000001.x12", data)
...     for f in box.list("outbound"):
...         raw = box.get("outbound", f.name)
...         box.archive("outbound", f.name)

Nothing connects or logs at import; the SFTP mailbox connects on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from transports.base import ARCHIVE_FOLDER, Mailbox, RemoteFile
from transports.errors import (
    AuthError,
    ConnectError,
    DiskFull,
    HostKeyError,
    SizeMismatch,
    TransferError,
    TransportError,
    UnsafeName,
)
from transports.local import LocalMailbox

if TYPE_CHECKING:
    from transports.sftp import SftpMailbox


def __getattr__(name: str) -> Any:
    """``SftpMailbox`` is imported on first use: paramiko costs a command that never opens SFTP."""
    if name == "SftpMailbox":
        from transports.sftp import SftpMailbox

        return SftpMailbox
    raise AttributeError(f"module 'transports' has no attribute {name!r}")

__all__ = [
    "ARCHIVE_FOLDER",
    "AuthError",
    "ConnectError",
    "DiskFull",
    "HostKeyError",
    "LocalMailbox",
    "Mailbox",
    "RemoteFile",
    "SftpMailbox",
    "SizeMismatch",
    "TransferError",
    "TransportError",
    "UnsafeName",
    "open_mailbox",
]


def open_mailbox(
    url: str,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    known_hosts: str | os.PathLike[str] | None = None,
    private_key: str | os.PathLike[str] | None = None,
    passphrase: str | None = None,
    timeout: float = 30.0,
) -> Mailbox:
    """The mailbox a ``[transport] url`` names.

    ``local:PATH``: a directory; a relative PATH is taken relative to ``base_dir`` (the config
    file's folder). ``sftp://user@host[:port]/base/path``: an SFTP server (port 22 by default);
    the URL path is the server-side base folder (empty means the login folder). SFTP needs
    ``known_hosts`` and ``private_key``; passwords in the URL are refused (key authentication only).
    A malformed URL or missing setting raises ValueError.
    """
    if url.startswith("local:"):
        raw = url[len("local:") :]
        if raw.startswith("//"):  # local:///abs/path
            raw = raw[2:]
        if not raw:
            raise ValueError("mailbox url 'local:' needs a path, e.g. local:var/mailbox")
        path = Path(raw)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return LocalMailbox(path)
    if url.startswith("sftp://"):
        parts = urlsplit(url)
        if parts.password is not None:
            raise ValueError("sftp mailbox url must not contain a password: key authentication only")
        try:
            port = parts.port or 22
        except ValueError as exc:
            raise ValueError(f"sftp mailbox url has a bad port: {url}") from exc
        if not parts.username or not parts.hostname:
            raise ValueError(f"sftp mailbox url needs a user and a host (sftp://user@host:port/path): {url}")
        if known_hosts is None or private_key is None:
            raise ValueError("an sftp mailbox needs [transport] known_hosts and private_key")
        from transports.sftp import SftpMailbox

        return SftpMailbox(
            parts.hostname,
            port,
            unquote(parts.username),
            unquote(parts.path) or ".",
            private_key,
            known_hosts,
            passphrase=passphrase,
            timeout=timeout,
        )
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ValueError(f"unknown mailbox url scheme {scheme!r}: use local:PATH or sftp://user@host:port/path")
