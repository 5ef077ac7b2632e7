"""The mailbox protocol, the listing record, and the checks every remote name goes through."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from transports.errors import UnsafeName

__all__ = ["ARCHIVE_FOLDER", "Mailbox", "RemoteFile", "check_folder", "check_name", "part_name"]

#: Subfolder of a download folder that processed files are moved into.
ARCHIVE_FOLDER = "archive"


@dataclass(frozen=True)
class RemoteFile:
    """One regular file in a mailbox folder: its name, size in bytes, and UTC modification time."""

    name: str
    size: int
    mtime: datetime


class Mailbox(Protocol):
    """A set of folders (relative to the mailbox base) holding files, reached locally or by SFTP.

    ``list`` shows regular files only, sorted by name; names starting with ``.`` (uploads in
    progress) and subfolders (such as ``archive``) are left out.
    """

    def list(self, folder: str) -> builtins.list[RemoteFile]:
        """The regular, non-hidden files in ``folder``; TransferError if the folder is missing."""
        ...

    def get(self, folder: str, name: str) -> bytes:
        """The file's bytes, verified to be as long as the size the server reports."""
        ...

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Write ``data`` as ``folder/name`` atomically (temporary name, then rename over)."""
        ...

    def exists(self, folder: str, name: str) -> int | None:
        """The file's size, or None when there is no regular file of that name."""
        ...

    def archive(self, folder: str, name: str) -> None:
        """Move ``folder/name`` into ``folder/archive/`` (replacing an older copy); idempotent."""
        ...

    def close(self) -> None:
        """Release the connection, if any; the mailbox may be used again afterwards."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _bad_chars(text: str) -> bool:
    return "\\" in text or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def check_name(name: str) -> str:
    """Return ``name`` if it names a plain file inside its folder, else raise UnsafeName.

    Refused: empty, ``.``/``..``, any ``/`` or ``\\``, NUL and other control characters, and names
    starting with ``.`` (reserved for uploads in progress).
    """
    if not isinstance(name, str) or not name:
        raise UnsafeName("file name is empty")
    if "/" in name or _bad_chars(name):
        raise UnsafeName(f"file name {name!r} contains a path separator or control character")
    if name.startswith("."):
        raise UnsafeName(f"file name {name!r} is hidden or leaves its folder")
    return name


def check_folder(folder: str) -> str:
    """Return ``folder`` as ``a/b`` if it stays inside the mailbox base, else raise UnsafeName.

    ``""`` is the base itself. Refused: absolute paths, empty, ``.`` or ``..`` components,
    backslashes, NUL and other control characters.
    """
    if not isinstance(folder, str):
        raise UnsafeName("folder name is not text")
    if folder == "":
        return ""
    if folder.startswith("/") or _bad_chars(folder):
        raise UnsafeName(f"folder {folder!r} is absolute or contains a control character")
    parts = folder.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeName(f"folder {folder!r} has an empty, '.' or '..' component")
    return "/".join(parts)


def part_name(name: str) -> str:
    """The temporary name an upload of ``name`` is written under before the rename."""
    return f".{name}.part"
