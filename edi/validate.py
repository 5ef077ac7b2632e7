"""Implementation-guide validation through pyx12.

:func:`validate_x12` runs pyx12's ``x12n_document`` on a file or a text and returns every error it
found as an :class:`Issue` (segment number in the file, segment id, loop id of the implementation
guide, element position, pyx12's error code and message). pyx12's own return value and exit code
are not trusted alone: the errors are read from its error tree (its JSON visitor output) and the
loop of each segment is recorded through its per-segment callback.

pyx12 4 ships no 5010 270/271 map. The X279A1 maps in ``edi/pyx12_maps`` are added to a copy of
pyx12's map folder built once in a cache directory (``$XDG_CACHE_HOME/bh-edi`` or
``~/.cache/bh-edi``, falling back to the system temp dir) and registered in that copy's
``maps.xml``; the copy is passed to pyx12 as ``map_path`` for every file.

pyx12 4 does not split repeated elements (ISA11): an EB03 of ``30^MH^A4`` is read as one code.
Elements that the maps allow to repeat are therefore checked once per repetition: pyx12 runs on
copies of the file that each keep one repetition (segment numbers do not change), and the errors
of the runs are merged. A file whose implementation has no map (the 276/277 005010X212) is
reported as not validated (:attr:`ValidationResult.not_validated`), not as an error.

pyx12 logs each error with the offending value; those log records are suppressed while it runs,
because values are PHI. :attr:`Issue.message` may also quote a value: show it to an operator, never
log it (log ``code``, ``segment_id``, ``loop_id`` and ``element`` instead).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

__all__ = ["Issue", "ValidationResult", "map_folder", "validate_x12"]

_OWN_MAPS = ("270.5010.X279.A1.xml", "271.5010.X279.A1.xml")
_REGISTRATION = (
    '    <map vriic="005010X279A1" fic="HS" abbr="270">270.5010.X279.A1.xml</map>\n'
    '    <map vriic="005010X279A1" fic="HB" abbr="271">271.5010.X279.A1.xml</map>\n'
)
_ANCHOR = '<version icvn="00501">'


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation error. ``element`` is 1-based (0 or None: the whole segment or envelope)."""

    segment_number: int | None
    segment_id: str | None
    loop_id: str | None
    element: int | None
    code: str
    message: str

    def __str__(self) -> str:
        where = []
        if self.segment_number is not None:
            where.append(f"segment {self.segment_number}")
        if self.segment_id:
            where.append(self.segment_id + (f"{self.element:02d}" if self.element else ""))
        if self.loop_id:
            where.append(f"loop {self.loop_id}")
        return f"{', '.join(where) or 'file'}: [{self.code}] {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """``ok``: no errors found. ``not_validated`` says why a file could not be checked at all
    (e.g. "not validated: no map for 005010X212"); such a file is ok with no errors."""

    ok: bool
    errors: list[Issue] = field(default_factory=list)
    not_validated: list[str] = field(default_factory=list)


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bh-edi"


def _fingerprint(pyx12_maps: Path, own: Path) -> str:
    h = hashlib.sha256()
    import pyx12

    h.update(str(getattr(pyx12, "__version__", "")).encode())
    h.update((pyx12_maps / "maps.xml").read_bytes())
    for name in _OWN_MAPS:
        h.update((own / name).read_bytes())
    return h.hexdigest()[:16]


def _build_map_folder(target: Path, pyx12_maps: Path, own: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".maps-", dir=target.parent))
    try:
        for entry in pyx12_maps.iterdir():
            if entry.is_file() and entry.suffix in (".xml", ".xsd", ".dtd"):
                shutil.copyfile(entry, tmp / entry.name)
        for name in _OWN_MAPS:
            shutil.copyfile(own / name, tmp / name)
        index = (tmp / "maps.xml").read_text(encoding="utf-8")
        if "005010X279A1" not in index:
            if _ANCHOR not in index:
                raise RuntimeError("pyx12 maps.xml has no 00501 version block")
            index = index.replace(_ANCHOR, _ANCHOR + "\n" + _REGISTRATION, 1)
            (tmp / "maps.xml").write_text(index, encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:  # another process built it first
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def map_folder(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The map folder passed to pyx12: its own maps plus the X279A1 270/271 maps (built once)."""
    pyx12_maps = Path(str(files("pyx12").joinpath("map")))
    own = Path(__file__).with_name("pyx12_maps")
    name = "pyx12-maps-" + _fingerprint(pyx12_maps, own)
    roots = [Path(cache_dir)] if cache_dir is not None else [_cache_root(), Path(tempfile.gettempdir()) / "bh-edi"]
    last: OSError | None = None
    for root in roots:
        target = root / name
        if (target / "maps.xml").is_file():
            return target
        try:
            _build_map_folder(target, pyx12_maps, own)
            return target
        except OSError as exc:  # not writable: try the next place
            last = exc
    assert last is not None
    raise last


@contextmanager
def _quiet_pyx12() -> Iterator[None]:
    """Silence pyx12's loggers (their records quote element values) while it runs."""
    logger = logging.getLogger("pyx12")
    old = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(old)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _collect(doc: dict[str, Any], loops: dict[int, str]) -> list[Issue]:
    issues: list[Issue] = []

    def env(level: dict[str, Any], seg_id: str, line_key: str = "cur_line") -> None:
        for e in level.get("errors", []):
            line = _int(level.get(line_key))
            issues.append(Issue(line, seg_id, None, None,
                                str(e.get("err_cde", "")), str(e.get("err_str", ""))))

    for isa in doc.get("interchanges", []):
        env(isa, "ISA")
        for gs in isa.get("groups", []):
            env(gs, "GS")
            for st in gs.get("transactions", []):
                env(st, "ST")
                for seg in st.get("segments", []):
                    line = _int(seg.get("cur_line"))
                    loop = loops.get(line) if line is not None else None
                    sid = seg.get("seg_id")
                    for e in seg.get("errors", []):
                        issues.append(Issue(line, sid, loop, 0, str(e.get("err_cde", "")),
                                            str(e.get("err_str", ""))))
                    for ele in seg.get("elements", []):
                        pos = _int(ele.get("ele_pos"))
                        for e in ele.get("errors", []):
                            issues.append(Issue(line, sid, loop, pos, str(e.get("err_cde", "")),
                                                str(e.get("err_str", ""))))
    return issues


_MAP_NOT_FOUND = re.compile(r"Map not found.*vriic=(\S+)", re.S)


@lru_cache(maxsize=4)
def _repeating_elements(maps: str) -> frozenset[str]:
    """The element references (``EB03``) that any map of ``maps`` allows to repeat."""
    out: set[str] = set()
    for path in Path(maps).glob("*.xml"):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for el in root.iter("element"):
            repeat = (el.findtext("repeat") or "1").strip()
            if repeat not in ("", "1") and el.get("xid"):
                out.add(str(el.get("xid")))
    return frozenset(out)


def _repetition_copies(text: str, repeating: frozenset[str]) -> list[str]:
    """``text`` once per repetition: copy ``j`` keeps repetition ``j`` of each repeated element
    (the last one where there are fewer). ``[text]`` when nothing repeats."""
    from edi._segments import detect_delimiters
    from edi.errors import EdiError

    try:
        d, _ = detect_delimiters(text.lstrip())
    except EdiError:
        return [text]
    if not d.repetition or d.repetition not in text[106:]:
        return [text]
    pieces = text.split(d.segment)
    split: dict[tuple[int, int], list[str]] = {}
    for n, piece in enumerate(pieces[1:], start=1):
        if d.repetition not in piece:
            continue
        elements = piece.split(d.element)
        sid = elements[0].strip()
        for i, value in enumerate(elements[1:], start=1):
            if d.repetition in value and f"{sid}{i:02d}" in repeating:
                split[n, i] = value.split(d.repetition)
    if not split:
        return [text]
    copies = []
    for j in range(max(len(v) for v in split.values())):
        out = list(pieces)
        for (n, i), reps in split.items():
            elements = out[n].split(d.element)
            elements[i] = reps[min(j, len(reps) - 1)]
            out[n] = d.element.join(elements)
        copies.append(d.segment.join(out))
    return copies


def _run_pyx12(text: str, maps: str) -> ValidationResult:
    """One pyx12 run over ``text``."""
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    loops: dict[int, str] = {}

    def on_segment(seg: Any, src: Any, node: Any, valid: bool) -> None:
        parent = node.get_parent() if node is not None and hasattr(node, "get_parent") else None
        loop_id = getattr(parent, "id", None)
        if loop_id:
            loops[src.get_cur_line()] = str(loop_id)

    out_json = io.StringIO()
    with _quiet_pyx12():
        param = pyx12.params.params()
        try:
            ok = pyx12.x12n_document.x12n_document(
                param, io.StringIO(text), None, None, fd_json=out_json, map_path=maps, callback=on_segment)
        except pyx12.errors.X12Error as exc:  # pyx12 could not walk the file at all
            return ValidationResult(False, [Issue(None, None, None, None, "ENGINE", str(exc))])
        except pyx12.errors.EngineError as exc:
            missing = _MAP_NOT_FOUND.search(str(exc))
            if missing:
                return ValidationResult(True, [], [f"not validated: no map for {missing.group(1)}"])
            return ValidationResult(False, [Issue(None, None, None, None, "ENGINE", str(exc))])
    raw = out_json.getvalue()
    issues = _collect(json.loads(raw), loops) if raw else []
    if not raw:
        issues.append(Issue(None, None, None, None, "ENGINE", "pyx12 could not read the file as X12"))
    if not ok and not issues:
        issues.append(Issue(None, None, None, None, "INVALID", "pyx12 rejected the file without details"))
    return ValidationResult(not issues, issues)


def validate_x12(source: str | bytes | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None
                 ) -> ValidationResult:
    """Validate an X12 file (a path) or its content (text or bytes containing an ISA) with pyx12."""
    if isinstance(source, bytes):
        text = source.decode("latin-1")
    elif isinstance(source, str) and source.lstrip().startswith("ISA"):
        text = source
    else:
        text = Path(source).read_bytes().decode("latin-1")
    maps = str(map_folder(cache_dir))
    copies = _repetition_copies(text, _repeating_elements(maps)) if len(text) > 106 else [text]
    results = [_run_pyx12(copy, maps) for copy in copies]
    issues = list(dict.fromkeys(i for r in results for i in r.errors))  # merged, in order, once each
    skipped = list(dict.fromkeys(n for r in results for n in r.not_validated))
    return ValidationResult(all(r.ok for r in results) and not issues, issues, skipped)
