"""Benchmark of 835 reading: raw segments, typed claims, and pyx12 as a reference.

    python benchmarks/bench_835.py [--claims 20000 200000] [--json benchmarks/results/bench_835.json]
    python benchmarks/bench_835.py --kinds typed --baseline /tmp/before   # before/after, side by side

For each size a balanced file is generated (benchmarks/gen_835.py, seed 1) in a scratch folder, then
each measurement runs in its own subprocess so that its peak memory (ru_maxrss) is its own:

* raw: ``edi.x12.SegmentReader`` iterated segment by segment over the file
* batches: the same reader taken a batch (list of segments) at a time, its native interface
* typed: ``open_x12`` -> ``read_835`` -> every ClaimPayment built, then ``balance()``
* pyx12: ``pyx12.x12file.X12Reader`` iterated over the same file

Segments per second are reported on wall time and on the process's CPU time (the latter is steadier
on a shared machine), counted from after the imports: importing the package is a fixed cost of the
process, not of reading, and is reported on its own (``import s``, CPU).

``--baseline DIR`` measures every kind a second time with ``DIR`` first on the children's
PYTHONPATH, so that the code as it was (e.g. ``git archive HEAD edi | tar -x -C DIR``) and as it is
are compared in one session, runs interleaved: on a shared machine, compare those rows, not figures
taken at another time. Prints a table and writes the results as JSON. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KINDS = ("raw", "batches", "typed", "pyx12")


def measure(kind: str, path: str) -> dict[str, Any]:
    """Run one measurement in this process and return its figures."""
    cpu0 = time.process_time()
    if kind == "pyx12":
        import pyx12.x12file
    elif kind == "typed":
        from edi.x12 import open_x12
        from edi.x835 import read_835
    else:
        from edi.x12 import SegmentReader
    import_cpu = time.process_time() - cpu0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    segments = claims = findings = 0
    if kind == "raw":
        with open(path, "rb") as f:
            for _ in SegmentReader(f):
                segments += 1
    elif kind == "batches":
        with open(path, "rb") as f:
            for batch in SegmentReader(f).batches():
                segments += len(batch)
    elif kind == "typed":
        with open(path, "rb") as f:
            env = open_x12(f)
            for ts in env:
                reader = read_835(ts)
                for _ in reader:
                    claims += 1
                findings += len(reader.balance())
            segments = env.reader.segment_number
    elif kind == "pyx12":
        with open(path, encoding="latin-1") as f:
            for _ in pyx12.x12file.X12Reader(f):
                segments += 1
    else:
        raise ValueError(kind)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"kind": kind, "segments": segments, "claims": claims, "balance_findings": findings,
            "seconds_wall": round(wall, 3), "seconds_cpu": round(cpu, 3), "import_seconds_cpu": round(import_cpu, 3),
            "segments_per_second_wall": round(segments / wall) if wall else None,
            "segments_per_second_cpu": round(segments / cpu) if cpu else None,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_measure(kind: str, path: Path, pythonpath: str | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (pythonpath, env.get("PYTHONPATH"))))
    out = subprocess.run([sys.executable, __file__, "--measure", kind, str(path)], check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="835 reading benchmark")
    ap.add_argument("--claims", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    ap.add_argument("--json", default="bench-out/bench_835.json")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is kept")
    ap.add_argument("--workdir", default=None, help="where to write the generated files (default: a temp dir)")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="also measure the package found in DIR (put first on PYTHONPATH), interleaved")
    ap.add_argument("--measure", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        for n in args.claims:
            path = work / f"bench_835_{n}_{args.seed}.x12"
            if not path.exists():  # in a child, so that this process stays small (ru_maxrss survives exec)
                subprocess.run([sys.executable, str(HERE / "gen_835.py"), "--claims", str(n), "--seed",
                                str(args.seed), str(path)], check=True, capture_output=True)
            size = path.stat().st_size
            codes = [("baseline", args.baseline), ("current", None)] if args.baseline else [("current", None)]
            for kind in args.kinds:
                runs: dict[str, list[dict[str, Any]]] = {code: [] for code, _ in codes}
                for _ in range(max(1, args.repeat)):
                    for code, pythonpath in codes:  # interleaved: both see the same machine load
                        runs[code].append(run_measure(kind, path, pythonpath))
                for code, _ in codes:
                    r = min(runs[code], key=lambda x: x["seconds_cpu"])
                    r["peak_rss_mib"] = max(x["peak_rss_mib"] for x in runs[code])
                    r.update(claims_in_file=n, file_bytes=size, code=code)
                    rows.append(r)
                    print(f"  {n} claims, {kind} ({code}): {r['segments_per_second_cpu']:,} segments/s (cpu)",
                          file=sys.stderr)

    header = f"{'claims':>8} {'file MiB':>9} {'segments':>10} {'reader':>7} {'code':>8} {'seg/s wall':>11} " \
             f"{'seg/s cpu':>10} {'cpu s':>7} {'import s':>9} {'peak MiB':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['claims_in_file']:>8} {r['file_bytes'] / 2**20:>9.1f} {r['segments']:>10,} {r['kind']:>7} "
              f"{r['code']:>8} {r['segments_per_second_wall']:>11,} {r['segments_per_second_cpu']:>10,} "
              f"{r['seconds_cpu']:>7.2f} {r['import_seconds_cpu']:>9.3f} {r['peak_rss_mib']:>9.1f}")
    result = {"benchmark": "835 read", "python": sys.version.split()[0], "machine": platform.machine(),
              "cpus": os.cpu_count(), "seed": args.seed, "baseline": args.baseline, "results": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
