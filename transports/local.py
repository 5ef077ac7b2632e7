"""A mailbox that is a local directory (the demo, the simulator, a mounted share)."""

from __future__ import annotations

import builtins
import contextlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import structlog

from transports.base import ARCHIVE_FOLDER, RemoteFile, check_folder, check_name, part_name
from transports.errors import SizeMismatch, TransferError

__all__ = ["LocalMailbox"]

_log = structlog.get_logger("transports")


def _makedirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents, each with mode 0700 (Path.mkdir would not)."""
    if directory.is_dir():
        return
    _makedirs(directory.parent)
    directory.mkdir(mode=0o700, exist_ok=True)


class LocalMailbox:
    """Folders under ``base_dir``; files are written 0600 and replaced atomically with os.replace.

    ``put`` creates a missing folder (mode 0700); ``list`` of a missing folder is a TransferError,
    as on SFTP, so that a misspelt folder is not mistaken for an empty one.
    """

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = Path(base_dir)

    def __repr__(self) -> str:
        return f"LocalMailbox({str(self.base_dir)!r})"

    def _dir(self, folder: str) -> Path:
        folder = check_folder(folder)
        return self.base_dir / folder if folder else self.base_dir

    def list(self, folder: str) -> builtins.list[RemoteFile]:
        """The regular, non-hidden files in ``folder``, sorted by name."""
        path = self._dir(folder)
        try:
            entries = builtins.list(os.scandir(path))
        except OSError as exc:
            raise TransferError(f"cannot list folder {folder!r} in {self.base_dir}: {exc.strerror}") from exc
        files = []
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
            files.append(RemoteFile(entry.name, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC)))
        files.sort(key=lambda f: f.name)
        _log.debug("mailbox_list", mailbox="local", folder=folder, count=len(files))
        return files

    def get(self, folder: str, name: str) -> bytes:
        """The file's bytes, checked against the size the file system reports."""
        path = self._dir(folder) / check_name(name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise TransferError(f"cannot read {folder}/{name} in {self.base_dir}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read()
        if len(data) != size:
            raise SizeMismatch(f"{folder}/{name}: read {len(data)} bytes, file size is {size}")
        _log.info("mailbox_get", mailbox="local", folder=folder, name=name, size=size)
        return data

    def put(self, folder: str, name: str, data: bytes) -> None:
        """Write ``data`` to ``.NAME.part`` (0600), fsync it, then os.replace it onto ``NAME``."""
        directory = self._dir(folder)
        check_name(name)
        tmp = directory / part_name(name)
        try:
            _makedirs(directory)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            try:
                os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, directory / name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise TransferError(f"cannot write {folder}/{name} in {self.base_dir}: {exc.strerror}") from exc
        _log.info("mailbox_put", mailbox="local", folder=folder, name=name, size=len(data))

    def exists(self, folder: str, name: str) -> int | None:
        """The size of ``folder/name``, or None when it is not a regular file."""
        path = self._dir(folder) / check_name(name)
        try:
            st = path.lstat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TransferError(f"cannot stat {folder}/{name} in {self.base_dir}: {exc.strerror}") from exc
        return st.st_size if stat.S_ISREG(st.st_mode) else None

    def archive(self, folder: str, name: str) -> None:
        """Move ``folder/name`` to ``folder/archive/name``; a file already moved there is left as is
        (also when another worker moves it between our check and our move)."""
        directory = self._dir(folder)
        src = directory / check_name(name)
        archive_dir = directory / ARCHIVE_FOLDER
        dst = archive_dir / name
        try:
            if not src.exists() and dst.is_file():
                return
            archive_dir.mkdir(mode=0o700, exist_ok=True)
            os.replace(src, dst)
        except FileNotFoundError as exc:
            if not dst.is_file():
                raise TransferError(f"cannot archive {folder}/{name} in {self.base_dir}: {exc.strerror}") from exc
            return
        except OSError as exc:
            raise TransferError(f"cannot archive {folder}/{name} in {self.base_dir}: {exc.strerror}") from exc
        _log.info("mailbox_archive", mailbox="local", folder=folder, name=name)

    def close(self) -> None:
        """Nothing to release for a local directory."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
