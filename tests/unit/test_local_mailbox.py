"""LocalMailbox, open_mailbox, and the behaviour every Mailbox shares (reused by the SFTP tests)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from transports import (
    LocalMailbox,
    Mailbox,
    SftpMailbox,
    SizeMismatch,
    TransferError,
    UnsafeName,
    open_mailbox,
)

FOLDER = "inbound"

UNSAFE_NAMES = [
    pytest.param("", id="empty"),
    pytest.param(".", id="dot"),
    pytest.param("..", id="parent"),
    pytest.param("../escape.x12", id="parent-prefix"),
    pytest.param("sub/file.x12", id="slash"),
    pytest.param("/etc/passwd", id="absolute"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\nb", id="control-char"),
    pytest.param("..\\escape", id="backslash"),
    pytest.param(".hidden", id="hidden-reserved-for-part-files"),
]

UNSAFE_FOLDERS = [
    pytest.param("..", id="parent"),
    pytest.param("inbound/../..", id="parent-component"),
    pytest.param("/etc", id="absolute"),
    pytest.param("inbound//x", id="empty-component"),
    pytest.param("./inbound", id="dot-component"),
    pytest.param("in\x00bound", id="nul"),
    pytest.param("in\\bound", id="backslash"),
]

OPERATIONS: list[Any] = [
    pytest.param(lambda box, folder, name: box.get(folder, name), id="get"),
    pytest.param(lambda box, folder, name: box.put(folder, name, b"x"), id="put"),
    pytest.param(lambda box, folder, name: box.exists(folder, name), id="exists"),
    pytest.param(lambda box, folder, name: box.archive(folder, name), id="archive"),
]

Op = Callable[[Mailbox, str, str], object]


def snapshot(root: Path) -> set[str]:
    """Every path under ``root``, relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


class MailboxBehaviour:
    """Behaviour shared by every Mailbox; a subclass provides ``mailbox`` and ``backing`` fixtures.

    ``backing`` is the directory on disk that the mailbox base maps to, used to plant and inspect
    files behind the mailbox's back.
    """

    @pytest.fixture(autouse=True)
    def _inbound(self, backing: Path) -> None:
        (backing / FOLDER).mkdir(exist_ok=True)

    def test_put_then_get_round_trips_bytes(self, mailbox: Mailbox) -> None:
        """Bytes written with put come back unchanged from get."""
        data = bytes(range(256)) * 500
        mailbox.put(FOLDER, "837P_1.x12", data)
        assert mailbox.get(FOLDER, "837P_1.x12") == data

    def test_put_replaces_existing_file(self, mailbox: Mailbox, backing: Path) -> None:
        """A put over an existing file replaces its content entirely."""
        (backing / FOLDER / "f.x12").write_bytes(b"old content that is longer")
        mailbox.put(FOLDER, "f.x12", b"new")
        assert (backing / FOLDER / "f.x12").read_bytes() == b"new"
        assert mailbox.exists(FOLDER, "f.x12") == 3

    def test_put_leaves_no_temporary_file(self, mailbox: Mailbox, backing: Path) -> None:
        """After a put the folder holds the file under its own name and nothing else."""
        mailbox.put(FOLDER, "f.x12", b"ISA*")
        assert os.listdir(backing / FOLDER) == ["f.x12"]

    def test_list_shows_regular_visible_files_with_size_and_mtime(
        self, mailbox: Mailbox, backing: Path
    ) -> None:
        """list returns visible regular files sorted by name, leaving out part files and folders."""
        folder = backing / FOLDER
        (folder / "b.x12").write_bytes(b"12345")
        (folder / "a.x12").write_bytes(b"123")
        (folder / ".c.x12.part").write_bytes(b"partial")
        (folder / "archive").mkdir()
        listed = mailbox.list(FOLDER)
        assert [(f.name, f.size) for f in listed] == [("a.x12", 3), ("b.x12", 5)]
        now = datetime.now(UTC)
        assert all(f.mtime.tzinfo is not None and abs(now - f.mtime) < timedelta(minutes=5) for f in listed)

    def test_list_of_missing_folder_is_an_error(self, mailbox: Mailbox) -> None:
        """Listing a folder that does not exist raises TransferError rather than looking empty."""
        with pytest.raises(TransferError):
            mailbox.list("no-such-folder")

    def test_exists_gives_size_or_none(self, mailbox: Mailbox, backing: Path) -> None:
        """exists returns the size of a present file and None for an absent one or a folder."""
        (backing / FOLDER / "f.x12").write_bytes(b"1234567")
        (backing / FOLDER / "archive").mkdir()
        assert mailbox.exists(FOLDER, "f.x12") == 7
        assert mailbox.exists(FOLDER, "missing.x12") is None
        assert mailbox.exists(FOLDER, "archive") is None

    def test_get_of_missing_file_is_an_error(self, mailbox: Mailbox) -> None:
        """Getting a file that does not exist raises TransferError."""
        with pytest.raises(TransferError):
            mailbox.get(FOLDER, "missing.x12")

    def test_archive_moves_file_out_of_the_listing(self, mailbox: Mailbox, backing: Path) -> None:
        """An archived file leaves the folder listing and sits unchanged in folder/archive/."""
        (backing / FOLDER / "835_1.x12").write_bytes(b"ISA*835")
        (backing / FOLDER / "835_2.x12").write_bytes(b"ISA*second")
        mailbox.archive(FOLDER, "835_1.x12")
        assert [f.name for f in mailbox.list(FOLDER)] == ["835_2.x12"]
        assert (backing / FOLDER / "archive" / "835_1.x12").read_bytes() == b"ISA*835"

    def test_archive_replaces_older_archived_copy(self, mailbox: Mailbox, backing: Path) -> None:
        """Archiving a name already in the archive replaces the archived copy."""
        (backing / FOLDER / "archive").mkdir()
        (backing / FOLDER / "archive" / "999.x12").write_bytes(b"old")
        (backing / FOLDER / "999.x12").write_bytes(b"new")
        mailbox.archive(FOLDER, "999.x12")
        assert (backing / FOLDER / "archive" / "999.x12").read_bytes() == b"new"
        assert mailbox.exists(FOLDER, "999.x12") is None

    def test_archive_twice_is_harmless(self, mailbox: Mailbox, backing: Path) -> None:
        """Archiving a file that was already archived leaves the archived copy in place."""
        (backing / FOLDER / "f.x12").write_bytes(b"data")
        mailbox.archive(FOLDER, "f.x12")
        mailbox.archive(FOLDER, "f.x12")
        assert (backing / FOLDER / "archive" / "f.x12").read_bytes() == b"data"

    def test_archive_of_missing_file_is_an_error(self, mailbox: Mailbox) -> None:
        """Archiving a file that is neither in the folder nor archived raises TransferError."""
        with pytest.raises(TransferError):
            mailbox.archive(FOLDER, "missing.x12")

    @pytest.mark.parametrize("operation", OPERATIONS)
    @pytest.mark.parametrize("name", UNSAFE_NAMES)
    def test_unsafe_file_names_are_refused(
        self, mailbox: Mailbox, backing: Path, operation: Op, name: str
    ) -> None:
        """A file name that could leave its folder is refused with UnsafeName and touches nothing."""
        (backing / FOLDER / "keep.x12").write_bytes(b"keep")
        before = snapshot(backing.parent)
        with pytest.raises(UnsafeName):
            operation(mailbox, FOLDER, name)
        assert snapshot(backing.parent) == before

    @pytest.mark.parametrize("operation", OPERATIONS)
    @pytest.mark.parametrize("folder", UNSAFE_FOLDERS)
    def test_unsafe_folders_are_refused(
        self, mailbox: Mailbox, backing: Path, operation: Op, folder: str
    ) -> None:
        """A folder that is absolute or climbs out of the base is refused with UnsafeName."""
        before = snapshot(backing.parent)
        with pytest.raises(UnsafeName):
            operation(mailbox, folder, "f.x12")
        with pytest.raises(UnsafeName):
            mailbox.list(folder)
        assert snapshot(backing.parent) == before


class TestLocalMailbox(MailboxBehaviour):
    """The shared behaviour on a local directory, plus what only a local mailbox does."""

    @pytest.fixture
    def backing(self, tmp_path: Path) -> Path:
        base = tmp_path / "mailbox"
        base.mkdir()
        return base

    @pytest.fixture
    def mailbox(self, backing: Path) -> LocalMailbox:
        return LocalMailbox(backing)

    def test_put_writes_owner_only_files(self, mailbox: LocalMailbox, backing: Path) -> None:
        """Files written by put are readable and writable by their owner only (0600)."""
        mailbox.put(FOLDER, "f.x12", b"PHI inside")
        assert stat.S_IMODE((backing / FOLDER / "f.x12").stat().st_mode) == 0o600

    def test_put_creates_a_missing_folder(self, mailbox: LocalMailbox, backing: Path) -> None:
        """put into a folder that does not exist yet creates it (mode 0700)."""
        mailbox.put("outbound/2024", "f.x12", b"x")
        assert (backing / "outbound" / "2024" / "f.x12").read_bytes() == b"x"
        assert stat.S_IMODE((backing / "outbound").stat().st_mode) == 0o700

    def test_get_detects_a_short_read(
        self, mailbox: LocalMailbox, backing: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """get raises SizeMismatch when the bytes read differ from the size the file system reports."""
        (backing / FOLDER / "f.x12").write_bytes(b"12345")
        real_fstat = os.fstat

        def lying_fstat(fd: int) -> os.stat_result:
            st = real_fstat(fd)
            fields = list(st[:10])
            fields[stat.ST_SIZE] = st.st_size + 1
            return os.stat_result(fields)

        monkeypatch.setattr(os, "fstat", lying_fstat)
        with pytest.raises(SizeMismatch):
            mailbox.get(FOLDER, "f.x12")

    def test_get_does_not_follow_symlinks(self, mailbox: LocalMailbox, backing: Path, tmp_path: Path) -> None:
        """A symlink planted in a folder is not followed out of the mailbox by get."""
        secret = tmp_path / "secret.txt"
        secret.write_bytes(b"outside")
        (backing / FOLDER / "link.x12").symlink_to(secret)
        with pytest.raises(TransferError):
            mailbox.get(FOLDER, "link.x12")
        assert [f.name for f in mailbox.list(FOLDER)] == []

    def test_context_manager_returns_the_mailbox(self, backing: Path) -> None:
        """Using a LocalMailbox in a with block yields the mailbox itself."""
        box = LocalMailbox(backing)
        with box as entered:
            assert entered is box


class TestOpenMailbox:
    """open_mailbox turns a [transport] url into the right mailbox."""

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            pytest.param("local:var/mailbox", "/etc/edi/var/mailbox", id="relative-to-base-dir"),
            pytest.param("local:/srv/mailbox", "/srv/mailbox", id="absolute"),
            pytest.param("local:///srv/mailbox", "/srv/mailbox", id="absolute-url-form"),
        ],
    )
    def test_local_urls(self, url: str, expected: str) -> None:
        """A local: url names a directory, relative paths taken from base_dir."""
        box = open_mailbox(url, base_dir="/etc/edi")
        assert isinstance(box, LocalMailbox)
        assert box.base_dir == Path(expected)

    @pytest.mark.parametrize(
        ("url", "host", "port", "user", "base"),
        [
            pytest.param("sftp://sunrise@sftp.example.com:2222/home/sunrise", "sftp.example.com", 2222,
                         "sunrise", "/home/sunrise", id="full"),
            pytest.param("sftp://sunrise@sftp.example.com/mailbox", "sftp.example.com", 22, "sunrise",
                         "/mailbox", id="default-port-22"),
            pytest.param("sftp://sunrise@sftp.example.com", "sftp.example.com", 22, "sunrise", ".",
                         id="no-path-is-login-folder"),
            pytest.param("sftp://sun%40rise@10.0.0.5:22/a%20b", "10.0.0.5", 22, "sun@rise", "/a b",
                         id="percent-decoded"),
        ],
    )
    def test_sftp_urls(self, url: str, host: str, port: int, user: str, base: str) -> None:
        """An sftp:// url gives host, port, user and base folder, and opens no connection yet."""
        box = open_mailbox(url, known_hosts="/kh", private_key="/key")
        assert isinstance(box, SftpMailbox)
        assert (box.host, box.port, box.username, box.base) == (host, port, user, base)
        assert (box.known_hosts_path, box.private_key_path) == (Path("/kh"), Path("/key"))

    @pytest.mark.parametrize(
        ("url", "kwargs"),
        [
            pytest.param("ftp://u@h/x", {}, id="unknown-scheme"),
            pytest.param("var/mailbox", {}, id="no-scheme"),
            pytest.param("local:", {}, id="local-without-path"),
            pytest.param("sftp://u:secret@h/x", {"known_hosts": "/kh", "private_key": "/k"}, id="password"),
            pytest.param("sftp://h/x", {"known_hosts": "/kh", "private_key": "/k"}, id="no-user"),
            pytest.param("sftp://u@h:port/x", {"known_hosts": "/kh", "private_key": "/k"}, id="bad-port"),
            pytest.param("sftp://u@h/x", {"private_key": "/k"}, id="no-known-hosts"),
            pytest.param("sftp://u@h/x", {"known_hosts": "/kh"}, id="no-private-key"),
        ],
    )
    def test_bad_urls_are_refused(self, url: str, kwargs: dict[str, str]) -> None:
        """A malformed url or a missing SFTP setting raises ValueError naming no secret."""
        with pytest.raises(ValueError) as info:
            open_mailbox(url, **kwargs)  # type: ignore[arg-type]
        assert "secret" not in str(info.value)
