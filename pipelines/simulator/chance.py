"""The simulator's only source of chance: stable hashes of the seed and of what a decision is about.

Never the global random generator and never a file's envelope dates, so the same claims get the
same answers however they are batched and whenever they were written.
"""

from __future__ import annotations

import hashlib

__all__ = ["stable", "unit"]


def stable(*parts: object) -> int:
    """A stable 64-bit hash of ``parts`` (Python's hash() is salted per process)."""
    text = "|".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def unit(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts``."""
    return stable(*parts) / 2.0**64
