"""Errors raised by the mailbox transports.

The tree::

    TransportError          anything that went wrong talking to a mailbox
    ├── ConnectError        [transient] the connection could not be made or was lost
    │                       (refused, timed out, reset, EOF, SSH protocol failure)
    ├── HostKeyError        the server's host key is not in known_hosts, or differs from it
    ├── AuthError           the private key could not be read or was not accepted
    ├── TransferError       the server refused an operation (missing file or folder, permission),
    │   │                   or a transfer could not be verified
    │   ├── DiskFull        the server has no space left for an upload (nothing stored under its name)
    │   └── SizeMismatch    [transient] the bytes read differ in size from what the server listed
    └── UnsafeName          a folder or file name that would leave its folder ("..", "/", NUL, ...)

``err.transient`` says whether trying again later may succeed. The SFTP mailbox retries transient
errors itself (with backoff, reconnecting first); what reaches the caller has already been retried.
Messages carry host, folder and file names and sizes, never file contents.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuthError",
    "ConnectError",
    "DiskFull",
    "HostKeyError",
    "SizeMismatch",
    "TransferError",
    "TransportError",
    "UnsafeName",
]


class TransportError(Exception):
    """Base of every mailbox error."""

    transient: ClassVar[bool] = False


class ConnectError(TransportError):
    """The connection could not be opened, or dropped during an operation."""

    transient = True


class HostKeyError(TransportError):
    """The server's host key is unknown or does not match known_hosts; never retried."""


class AuthError(TransportError):
    """Key authentication failed or the private key could not be loaded; never retried."""


class TransferError(TransportError):
    """The server refused an operation on a file or folder, or a transfer did not verify."""


class DiskFull(TransferError):
    """The server ran out of space while an upload was written; nothing replaced the file's name.

    Not retried at once: space has to be freed on the server first (the next run tries again).
    """


class SizeMismatch(TransferError):
    """A download's length differs from the size the server reported for the file."""

    transient = True


class UnsafeName(TransportError, ValueError):
    """A folder or file name that is empty, hidden, absolute, or would leave its folder."""
