"""ICD-10-CM look-ups for claim coding, over the ``simple_icd_10_cm`` package (FY2026 code set).

* :func:`normalize` writes a code in its dotted form: ``'f331'`` and ``'F33.1'`` both give ``'F33.1'``.
* :func:`is_billable` is true for a code that exists and is a leaf of the classification (a code a
  claim may carry); categories such as ``F33`` and blocks such as ``F30-F39`` are not billable.
* :func:`excludes1_pairs` finds the pairs of codes in one claim that ICD-10-CM's Excludes1 notes
  forbid together: the Excludes1 note of one code, or of any category/block above it, names the
  other code or a category above it (``F32.9`` with ``F33.1``: ``F32`` excludes ``F33.-``).

How an Excludes1 note is read: every code-shaped token in the note text is a reference, either a
single code or category (``F33.-``, ``F10.1-``, ``F32.A``, ``Q68.0``), which names itself and
everything below it, or a range (``F10-F19``, ``Q67.0-Q67.4``, ``S06.1- to S06.6-``), which names
everything whose code, cut to the length of each bound, lies between the bounds. A parenthesised
reference qualified with "with ..." (``T36-T65 with final character 5``) is skipped: it names only a
part of the range and the qualifier is not machine-readable, and a false hold is worse than a missed
one. Tokens that are not real ICD-10-CM categories (``H1N1``-like words) are ignored.
"""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import Sequence
from functools import cache, lru_cache
from types import ModuleType

__all__ = ["excludes1_pairs", "is_billable", "normalize"]

_CODE = r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?"
_REFERENCE = re.compile(
    rf"(?<![0-9A-Za-z.])({_CODE})\.?-?"
    rf"(?:\s*(?:-|\bto\b)\s*({_CODE})\.?-?)?"
    r"(?![0-9A-Za-z])"
)
_QUALIFIED_GROUP = re.compile(r"\([^()]*\bwith\b[^()]*\)")


@cache
def _cm() -> ModuleType:
    """The ``simple_icd_10_cm`` module, imported on first use: importing it parses the whole code set
    (seconds), which commands that never look a code up should not pay for."""
    # The code set's ~600,000 objects live as long as the process: made with the cycle collector off
    # (it would walk them again and again while they are made, half the load time), then frozen, so that
    # no later collection walks them (a full collection would take 0.15 s each, and bulk work triggers many).
    enabled = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            # The package loads its data with importlib.resources' legacy API at import time.
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm
    finally:
        if enabled:
            gc.enable()
    gc.freeze()

    module: ModuleType = simple_icd_10_cm
    return module


def normalize(code: str) -> str:
    """The code upper-cased, without spaces, with its dot after the third character (``'F33.1'``)."""
    compact = "".join(code.split()).upper().replace(".", "")
    return compact if len(compact) <= 3 else f"{compact[:3]}.{compact[3:]}"


@lru_cache(maxsize=4096)
def is_billable(code: str) -> bool:
    """True when ``code`` (dotted or not) is a valid ICD-10-CM code with no codes below it."""
    dotted = normalize(code)
    if len(dotted) < 3 or "-" in dotted:
        return False
    try:
        return bool(_cm().is_valid_item(dotted)) and bool(_cm().is_leaf(dotted))
    except ValueError:
        return False


def _key(code: str) -> str:
    """The code as compared in references: upper case, no dot, no trailing wildcard."""
    return code.upper().replace(".", "").rstrip("-")


def _is_category(token: str) -> bool:
    try:
        return bool(_cm().is_valid_item(token[:3]))
    except ValueError:
        return False


def _references(text: str) -> tuple[tuple[str, str], ...]:
    """The (low, high) keys a note text names; a single code gives (code, code)."""
    text = _QUALIFIED_GROUP.sub(" ", text)
    found: list[tuple[str, str]] = []
    for match in _REFERENCE.finditer(text):
        low = _key(match.group(1))
        high = _key(match.group(2)) if match.group(2) else low
        if _is_category(low) and _is_category(high):
            found.append((low, high))
    return tuple(found)


def _named_by(reference: tuple[str, str], code_key: str) -> bool:
    low, high = reference
    return code_key[: len(low)] >= low and code_key[: len(high)] <= high


@lru_cache(maxsize=4096)
def _excludes1_references(dotted: str) -> tuple[tuple[str, str], ...]:
    """Every reference in the Excludes1 notes of ``dotted`` and of all its ancestors."""
    cm = _cm()
    try:
        if not cm.is_valid_item(dotted):
            return ()
        items = [dotted, *cm.get_ancestors(dotted)]
        return tuple(ref for item in items for text in cm.get_excludes1(item) for ref in _references(text))
    except ValueError:
        return ()


def _excludes(first: str, second: str) -> bool:
    """True when an Excludes1 note of ``first`` or above it names ``second`` or a category above it."""
    second_key = _key(second)
    return any(_named_by(ref, second_key) for ref in _excludes1_references(first))


def excludes1_pairs(codes: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The pairs (in claim order) of distinct codes in ``codes`` that an Excludes1 note forbids together.

    Codes are normalized first; codes that do not exist in ICD-10-CM take part in no pair.
    """
    dotted = list(dict.fromkeys(normalize(code) for code in codes))
    pairs: list[tuple[str, str]] = []
    for i, first in enumerate(dotted):
        for second in dotted[i + 1 :]:
            if _excludes(first, second) or _excludes(second, first):
                pairs.append((first, second))
    return tuple(pairs)
