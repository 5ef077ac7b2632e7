"""Fuzz campaign over the X12 reader and every set parser: ``python benchmarks/fuzz_campaign.py [N] [--seed S]``.

Each input is a fixture file (``fixtures/**/*.x12``), often several concatenated past one read
batch (8 KiB), then mutated: random byte flips, cuts at a random byte or at a segment boundary,
duplicated or removed segments, inserted delimiters, or an ISA and GS followed by text with no
segment terminator. Every input goes through :func:`edi.inspect.inspect_stream` (the reader, the
envelope walk and the parser of every set it holds), strict and lenient.

It prints the counts: inputs, ok, typed errors (``edi.errors``) by type, untyped errors (anything
else: a bug; the first few inputs are saved to ``--out`` as reproducers) and the slowest time per
MB (CPU time / max(size, 8 KiB): below one read batch the fixed cost per file dominates; an
input over the limit is timed twice more and the best run counts, as the machine may be shared).
The goal is 0 untyped and 0 inputs over 1 s per MB. The mutators are shared with
``tests/unit/test_fuzz.py``, which runs a bounded slice with hypothesis.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from edi.errors import EdiError  # noqa: E402
from edi.inspect import inspect_stream  # noqa: E402

BATCH = 8192  # the reader's read size: inputs are made larger than this
MB = 1 << 20
SLOW = 1.0  # seconds per MB


def fixtures() -> list[bytes]:
    """Every X12 fixture's bytes."""
    return [p.read_bytes() for p in sorted((ROOT / "fixtures").glob("**/*.x12"))]


def terminator(data: bytes) -> int:
    """The segment terminator the ISA declares (byte 105), '~' when there is no full ISA."""
    return data[105] if len(data) > 105 else ord("~")


def boundaries(data: bytes) -> list[int]:
    """Offsets just past each segment terminator."""
    t = terminator(data)
    return [i + 1 for i, b in enumerate(data) if b == t]


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def cut_random(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def cut_segment(rng: random.Random, data: bytes) -> bytes:
    cuts = boundaries(data)
    return data[: rng.choice(cuts)] if cuts else data


def edit_segments(rng: random.Random, data: bytes) -> bytes:
    """Duplicate or remove a few segments."""
    t = bytes([terminator(data)])
    segs = data.split(t)
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(segs))
        if rng.random() < 0.5:
            segs.insert(k, segs[k])
        elif len(segs) > 1:
            del segs[k]
    return t.join(segs)


def insert_delimiters(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        out.insert(rng.randrange(len(out) + 1), rng.choice(b"*~:^\r\n \x00\xff"))
    return bytes(out)


def unterminated(rng: random.Random, data: bytes) -> bytes:
    """The ISA and GS, then text with no segment terminator."""
    cuts = boundaries(data)
    head = data[: cuts[1]] if len(cuts) > 1 else data[:108]
    filler = rng.choice([b"A", b"NM1*IL*1*DOE", b"*", b"\r\n"])
    return head + filler * (rng.randint(BATCH, 4 * BATCH) // len(filler))


MUTATORS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": flip, "cut_random": cut_random, "cut_segment": cut_segment, "edit_segments": edit_segments,
    "insert_delimiters": insert_delimiters, "unterminated": unterminated, "none": lambda rng, d: d,
}


def make_input(rng: random.Random, files: list[bytes]) -> tuple[str, bytes]:
    """One mutated input: a fixture (or several past one read batch), then one or two mutations."""
    data = rng.choice(files)
    if rng.random() < 0.7:
        parts = [data]
        while sum(map(len, parts)) <= BATCH:
            parts.append(rng.choice(files))
        data = b"".join(parts)
    names = rng.choices(list(MUTATORS), k=rng.choice((1, 1, 2)))
    for name in names:
        data = MUTATORS[name](rng, data)
    return "+".join(names), data


def run_one(data: bytes, *, strict: bool) -> tuple[str, float]:
    """Outcome ('ok', an edi.errors type name, or 'UNTYPED <type>') and seconds per MB."""
    start = time.process_time()  # CPU time: the machine may be shared
    try:
        inspect_stream(io.BytesIO(data), strict=strict)
        outcome = "ok"
    except EdiError as exc:
        outcome = type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - the point is to count them
        outcome = f"UNTYPED {type(exc).__name__}"
    elapsed = time.process_time() - start
    return outcome, elapsed * MB / max(len(data), BATCH)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="inputs to run (default 100000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("fuzz_reproducers"), help="where untyped inputs go")
    parser.add_argument("--keep", type=int, default=5, help="reproducers to save")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    files = fixtures()
    for data in files:  # warm up: code tables and maps load once, on first use
        run_one(data, strict=False)
    counts: dict[str, Counter[str]] = {"strict": Counter(), "lenient": Counter()}
    slowest = (0.0, "", 0)
    slow = saved = total_bytes = 0
    started = time.perf_counter()
    for i in range(args.n):
        how, data = make_input(rng, files)
        total_bytes += len(data)
        for mode, counter in counts.items():
            outcome, per_mb = run_one(data, strict=mode == "strict")
            if per_mb > SLOW:  # a shared machine stalls now and then: the best of three runs counts
                per_mb = min([per_mb] + [run_one(data, strict=mode == "strict")[1] for _ in range(2)])
            counter[outcome] += 1
            if per_mb > slowest[0]:
                slowest = (per_mb, how, len(data))
            if per_mb > SLOW:
                slow += 1
            if outcome.startswith("UNTYPED") and saved < args.keep:
                args.out.mkdir(parents=True, exist_ok=True)
                path = args.out / f"untyped_{i}_{mode}.x12"
                path.write_bytes(data)
                try:
                    inspect_stream(io.BytesIO(data), strict=mode == "strict")
                except Exception:  # noqa: BLE001
                    path.with_suffix(".txt").write_text(traceback.format_exc())
                saved += 1
    wall = time.perf_counter() - started
    rows = [("inputs", str(args.n), str(args.n))]
    keys = sorted(set(counts["strict"]) | set(counts["lenient"]), key=lambda k: (k.startswith("UNTYPED"), k != "ok", k))
    rows += [(k, str(counts["strict"][k]), str(counts["lenient"][k])) for k in keys]
    untyped = sum(v for c in counts.values() for k, v in c.items() if k.startswith("UNTYPED"))
    rows += [("untyped (total)", str(sum(v for k, v in counts["strict"].items() if k.startswith("UNTYPED"))),
              str(sum(v for k, v in counts["lenient"].items() if k.startswith("UNTYPED"))))]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'strict':>9}  {'lenient':>9}")
    for name, s, lenient in rows:
        print(f"{name:{width}}  {s:>9}  {lenient:>9}")
    print(f"runs over {SLOW:g} s/MB: {slow}; slowest {slowest[0]:.3f} s/MB ({slowest[1]}, {slowest[2]} bytes)")
    print(f"{total_bytes / MB:.1f} MB in {wall:.1f} s, seed {args.seed}"
          + (f"; reproducers in {args.out}/" if saved else ""))
    return 1 if untyped or slow else 0


if __name__ == "__main__":
    sys.exit(main())
