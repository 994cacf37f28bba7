"""The long fuzzing run: hostile variants of real exports against `mnv3c inspect` and `compile`.

Seeds: the bundled MNIST model and three zoo exports at 32x32 (MobileNetV3-Small legacy opset 17,
MobileNetV2 with unfolded BatchNormalization, MobileNetV1 from the dynamo exporter, whose
weights are external data). Case k of a seed is `tests/onnx_fuzz.mutate(seed, k)`, so any case
is reproduced with its seed and number. Every tenth case runs `compile --target host`, the rest
`inspect`; each in a forked child with a time limit. The tally counts exit codes, tracebacks,
hangs, leftover files, exit-2 messages that are not one line and stderr lines that are not
mnv3c's own (NumPy warnings): each breaks the contract, and failing cases are listed.

    python benchmarks/fuzz.py --cases 10000 [--seeds bundled,v3_small,v2_bn,v1_dynamo] [--timeout 60] [--jobs 2]

Prints markdown on stdout (progress on stderr); exits 1 if any case broke the contract.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from onnx_fuzz import LONG_RUN_SEEDS, SEED_EXPORT, Outcome, long_run_case, prepare_case, run_case  # noqa: E402

BUNDLED = ROOT / "mnv3c" / "data" / "mnv3_small_mnist.onnx"


def seed_paths(names: list[str], cache: Path) -> dict[str, Path]:
    """The seed files, exported (or found in the cache) by a child interpreter: torch stays out of
    this process, whose forks run every case."""
    script = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import fuzz; "
              f"print(json.dumps({{k: str(v) for k, v in fuzz._export_seeds({names!r}, {str(cache)!r}).items()}}))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"fuzz: exporting the seeds failed:\n{proc.stderr}")
    return {k: Path(v) for k, v in json.loads(proc.stdout.splitlines()[-1]).items()}


def _export_seeds(names: list[str], cache: str) -> dict[str, Path]:
    paths = {}
    for name in names:
        if name == "bundled":
            paths[name] = BUNDLED
            continue
        from mnv3c.zoo.export import cached_export

        family, variant, width = LONG_RUN_SEEDS[name]
        paths[name] = cached_export(Path(cache), family, variant, width=width, **SEED_EXPORT)
    return paths


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=1000, help="total cases, spread over the seeds")
    p.add_argument("--seeds", default="bundled," + ",".join(LONG_RUN_SEEDS))
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per case before it counts as a hang")
    p.add_argument("--first", type=int, default=0, help="first case number (to resume or reproduce)")
    p.add_argument("--jobs", type=int, default=1, help="cases run at once")
    args = p.parse_args()
    cache = Path(os.environ.get("MNV3C_ZOO_CACHE") or Path(tempfile.gettempdir()) / "mnv3c-zoo-cache")
    seeds = seed_paths(args.seeds.split(","), cache)
    tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures: list[str] = []
    start = time.monotonic()
    cases = range(args.first, args.first + args.cases)
    try:
        with tempfile.TemporaryDirectory(prefix="mnv3c-fuzz-") as tmp, \
                multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            signal.signal(signal.SIGTERM, _stop)  # a stopped run still prints the tally of the cases it ran
            jobs = [(seeds, k, Path(tmp) / f"case{k}", args.timeout) for k in cases]
            for done, (name, k, command, description, outcome) in enumerate(pool.imap(_one, jobs, chunksize=1), 1):
                row = tally[f"{name} {command}"]
                row["cases"] += 1
                row[f"exit {outcome.exit_code if outcome.exit_code is not None else 'killed'}"] += 1
                row["seconds"] += outcome.seconds
                for problem in outcome.problems():
                    row[problem] += 1
                if outcome.problems():
                    last = outcome.stderr.strip().splitlines()[-1:] or [""]
                    failures.append(f"| {name} | {k} | {command} | {', '.join(outcome.problems())} | {description[:80]} "
                                    f"| {last[0][:160]} |")
                    print(f"fuzz: FAILED {failures[-1]}", file=sys.stderr, flush=True)
                if done % 100 == 0:
                    print(f"fuzz: {done}/{args.cases} cases, {len(failures)} failing, "
                          f"{time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("fuzz: stopped early; the tally covers the cases that finished", file=sys.stderr)
    _print(tally, failures, args, time.monotonic() - start)
    return 1 if failures else 0


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _one(job: tuple[dict[str, Path], int, Path, float]) -> tuple[str, int, str, str, Outcome]:
    """Case k: its seed and command (`long_run_case`) and outcome."""
    seeds, k, work, timeout = job
    name, command = long_run_case(k, list(seeds))
    description, model = prepare_case(seeds[name], k, work)
    outcome = run_case(command, model, work, timeout)
    shutil.rmtree(work, ignore_errors=True)
    return name, k, command, description, outcome


def _print(tally: dict[str, collections.Counter], failures: list[str], args: argparse.Namespace, seconds: float) -> None:
    columns = ["cases", "exit 0", "exit 2", "exit 1", "exit 3", "exit killed", "traceback", "hang", "leftovers",
               "stderr not one line", "stray stderr"]
    others = sorted({k for row in tally.values() for k in row if k.startswith("exit ") and k not in columns})
    columns += others
    done = sum(row["cases"] for row in tally.values())
    print(f"mnv3c fuzz, {datetime.date.today().isoformat()}, {done:,} cases run: `python benchmarks/fuzz.py --cases {args.cases} "
          f"--seeds {args.seeds} --first {args.first} --jobs {args.jobs}` ({seconds / 60:.0f} min)\n")
    print("| seed command | " + " | ".join(columns) + " | mean s |")
    print("|---|" + "--:|" * (len(columns) + 1))
    total: collections.Counter = collections.Counter()
    for key in sorted(tally):
        row = tally[key]
        total.update(row)
        print(f"| {key} | " + " | ".join(str(row[c]) for c in columns) + f" | {row['seconds'] / row['cases']:.2f} |")
    print("| **all** | " + " | ".join(str(total[c]) for c in columns) + f" | {total['seconds'] / max(total['cases'], 1):.2f} |")
    if failures:
        print("\n| seed | case | command | problem | mutation | last stderr line |\n|---|--:|---|---|---|---|")
        print("\n".join(failures[:200]))


if __name__ == "__main__":
    sys.exit(main())
