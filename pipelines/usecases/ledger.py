"""The file ledger: control numbers, archived raw bytes, and file records in and out."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from edi.errors import EdiError
from edi.x12 import detect_delimiters
from models import ControlCounter, File, FileTransaction, utcnow

__all__ = ["ClaimNumbers", "archive_bytes", "next_control", "printable", "read_archived_bytes", "record_inbound",
           "record_outbound", "sniff_kind"]

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def next_control(session: Session, sender: str, kind: str, count: int = 1) -> int:
    """Reserve ``count`` control numbers for (sender, kind); returns the first.

    One UPDATE ... RETURNING: the row lock it takes makes concurrent runs on PostgreSQL queue up
    instead of reusing a number. The numbers are the caller's once its transaction commits.
    """
    stmt = (update(ControlCounter)
            .where(ControlCounter.sender == sender, ControlCounter.kind == kind)
            .values(last_value=ControlCounter.last_value + count)
            .returning(ControlCounter.last_value))
    last = session.execute(stmt).scalar_one_or_none()
    if last is None:
        try:
            with session.begin_nested():
                session.execute(insert(ControlCounter).values(sender=sender, kind=kind, last_value=0))
        except IntegrityError:
            pass  # another process inserted it first
        last = session.execute(stmt).scalar_one()
    return int(last) - count + 1


class ClaimNumbers:
    """New CLM01s and line control numbers for ``claims`` claims and ``lines`` lines, reserved from
    the counters (:func:`next_control`) in one step each."""

    def __init__(self, session: Session, submitter: str, claims: int, lines: int) -> None:
        self._claim = next_control(session, submitter, "claim", claims) if claims else 0
        self._line = next_control(session, submitter, "line", lines) if lines else 0

    def claim_id(self) -> str:
        self._claim += 1
        return f"C{self._claim - 1:06d}"

    def line_control_number(self) -> str:
        self._line += 1
        return f"L{self._line - 1:06d}"


def archive_bytes(archive_dir: Path, direction: str, name: str, data: bytes, sha256: str) -> Path:
    """Write raw X12 (PHI) into the archive with mode 0600, in folders of mode 0700."""
    now = utcnow()
    folder = archive_dir / direction / f"{now:%Y}" / f"{now:%m}" / f"{now:%d}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for p in (archive_dir, archive_dir / direction, folder):
        os.chmod(p, 0o700)
    path = folder / f"{sha256[:12]}-{_SAFE.sub('_', name)[-120:]}"
    if not path.exists():
        tmp = path.with_name("." + path.name + ".part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    return path


_KINDS = {"837": "837P", "835": "835", "999": "999", "270": "270", "271": "271", "276": "276"}
_UNKNOWN: tuple[str, str | None, str | None, str | None, str | None] = ("unknown", None, None, None, None)


def _el(seg: Sequence[str], i: int) -> str:
    """Element ``i`` of a segment, "" when the segment is shorter (a sniffed file may be anything)."""
    return seg[i] if len(seg) > i else ""


def sniff_kind(data: bytes) -> tuple[str, str | None, str | None, str | None, str | None]:
    """(kind, sender, receiver, ISA13, GS06) read from the first envelope, without parsing the rest.

    kind is 837P, 270, 271, 276, 277, 277CA, 835, 999, TA1, or ``unknown``. Never raises: a file
    that cannot be sniffed (empty, binary, an ISA cut short, a GS or ST without elements) is
    ``unknown`` here, and processing it fails with the parser's error and position.
    """
    try:
        return _sniff(_head_segments(data[:4096]))
    except (EdiError, ValueError, IndexError, UnicodeError):
        return _UNKNOWN


def _sniff(segs: list[list[str]]) -> tuple[str, str | None, str | None, str | None, str | None]:
    sender = receiver = isa13 = gs06 = None
    kind = "unknown"
    gs01 = version = ""
    for seg in segs:
        sid = seg[0]
        if sid == "ISA" and len(seg) > 13:
            sender, receiver, isa13 = seg[6].strip(), seg[8].strip(), seg[13].strip()
        elif sid == "TA1" and kind == "unknown":
            kind = "TA1"
        elif sid == "GS":
            gs01, gs06, version = _el(seg, 1), _el(seg, 6) or None, _el(seg, 8)
        elif sid == "ST":
            version = _el(seg, 3) or version
            kind = _KINDS.get(_el(seg, 1), "unknown")
            if _el(seg, 1) == "277":
                kind = "277CA" if version.startswith("005010X214") or gs01 == "HN" and "X214" in version else "277"
            break
    return kind, _clean(sender, 15), _clean(receiver, 15), _clean(isa13, 9), _clean(gs06, 9)


def _clean(value: str | None, length: int) -> str | None:
    """A sniffed value fit for its column: printable characters only, at most ``length``."""
    if value is None:
        return None
    return printable(value)[:length] or None


def printable(text: str) -> str:
    """``text`` with control characters (NUL included, which PostgreSQL text refuses) escaped."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _head_segments(head: bytes) -> list[list[str]]:
    text = head.decode("latin-1").lstrip()
    d, end = detect_delimiters(text)
    segs = [text[:end].rstrip("\r\n" + d.segment).split(d.element)]
    for part in text[end:].split(d.segment)[:-1]:
        part = part.strip("\r\n")
        if part:
            segs.append(part.split(d.element))
    return segs


def record_outbound(session: Session, *, name: str, data: bytes, kind: str, archive_dir: Path,
                    sender: str, receiver: str, isa_control: int, gs_control: int,
                    st_controls: Sequence[tuple[str, str]], run_id: int | None = None) -> File:
    """Store a built file (state ``built``) with its archived bytes and control numbers."""
    sha = hashlib.sha256(data).hexdigest()
    path = archive_bytes(archive_dir, "out", name, data, sha)
    f = File(name=name, direction="out", kind=kind, sha256=sha, size=len(data), sender_id=sender,
             receiver_id=receiver, isa_control=f"{isa_control:09d}", gs_control=str(gs_control),
             state="built", archive_path=str(path), run_id=run_id)
    f.transactions = [FileTransaction(set_id=set_id, gs_control=str(gs_control), st_control=st)
                      for set_id, st in st_controls]
    session.add(f)
    session.flush()
    return f


def record_inbound(session: Session, *, name: str, data: bytes, archive_dir: Path,
                   run_id: int | None = None) -> tuple[File, bool]:
    """Store a received file before it is processed. Returns (file, is_new).

    A byte-identical file already on record is not stored again: the existing record is returned
    with ``is_new`` False, so the caller can skip a file that was processed, or finish one that a
    crash left ``received``.
    """
    sha = hashlib.sha256(data).hexdigest()
    existing = session.scalars(
        select(File).where(File.sha256 == sha, File.direction == "in").order_by(File.id)).first()
    if existing is not None:
        return existing, False
    kind, sender, receiver, isa13, gs06 = sniff_kind(data)
    path = archive_bytes(archive_dir, "in", name, data, sha)
    f = File(name=printable(name)[:255], direction="in", kind=kind, sha256=sha, size=len(data), sender_id=sender,
             receiver_id=receiver, isa_control=isa13, gs_control=gs06, state="received",
             archive_path=str(path), run_id=run_id)
    session.add(f)
    session.flush()
    return f, True


def read_archived_bytes(f: File) -> bytes:
    """The raw bytes of a recorded file, from the archive."""
    if not f.archive_path:
        raise FileNotFoundError(f"file {f.id} has no archived copy")
    return Path(f.archive_path).read_bytes()
