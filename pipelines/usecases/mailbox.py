"""The clearinghouse mailbox named by the configuration."""

from __future__ import annotations

from pathlib import Path

from pipelines.config import Config
from transports import Mailbox, open_mailbox

__all__ = ["open_configured_mailbox"]


def open_configured_mailbox(config: Config) -> Mailbox:
    """Open ``[transport]``'s mailbox; the embedded local one gets its folders on first use."""
    t = config.transport
    if t.url.startswith("local:"):
        for folder in (t.upload_dir, t.download_dir):
            (Path(t.url[len("local:"):]) / folder).mkdir(parents=True, exist_ok=True, mode=0o700)
    return open_mailbox(t.url, known_hosts=t.known_hosts, private_key=t.private_key, passphrase=t.passphrase,
                        timeout=t.timeout_seconds)
