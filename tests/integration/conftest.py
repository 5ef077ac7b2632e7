"""Fixtures for integration tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.integration.sshd import SshdServer, running_sshd, unavailable_reason
from transports import SftpMailbox

# --- OpenSSH sshd (tests/integration/sshd.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def sshd_server() -> Iterator[SshdServer]:
    """A real sshd on 127.0.0.1 with a chrooted SFTP mailbox, for the whole session."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with running_sshd() as server:
        yield server


@pytest.fixture
def sftp_mailbox(sshd_server: SshdServer) -> Iterator[SftpMailbox]:
    """An SftpMailbox on the test sshd, its folder emptied first; quick retries for tests."""
    for entry in sshd_server.mailbox_dir.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    with SftpMailbox(
        sshd_server.host,
        sshd_server.port,
        sshd_server.username,
        sshd_server.base,
        sshd_server.user_key,
        sshd_server.known_hosts,
        timeout=10,
        attempts=3,
        backoff=0.01,
    ) as box:
        yield box
