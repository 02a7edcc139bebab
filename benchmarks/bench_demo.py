"""Wall time and peak memory of the README's first command, `lmms-eval demo`.

Runs `python -m lmms_eval demo --output_path <tmp>` (the bundled demo model on the `demo`
suite, on the CPU unless a GPU is present) as a fresh subprocess each time, and prints
the wall time (target: under 60 s on a 2-core CPU machine), the child's peak RSS
(getrusage RUSAGE_CHILDREN ru_maxrss) and the scores from the results JSON.

    uv run python benchmarks/bench_demo.py [--blank] [--threads N] [--repeats 2]

`--blank` adds the demo_blank control. `--threads N` sets OMP_NUM_THREADS for the child;
left unset, torch uses one thread per core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(extra: list[str], env: dict[str, str], output: Path) -> tuple[float, int, dict]:
    """Wall seconds, the child's peak RSS in MB, and the results JSON."""
    command = [sys.executable, "-m", "lmms_eval", "demo", "--output_path", str(output), *extra]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    # ru_maxrss of children is the largest of any waited-for child (KB on Linux); the runs
    # are alike, so the running maximum is the peak of each.
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    if completed.returncode != 0:
        raise SystemExit(f"lmms-eval demo failed ({completed.returncode}): {completed.stderr.strip()[-1000:]}")
    (results_file,) = output.glob("*/*_results.json")
    return wall, peak_mb, json.loads(results_file.read_text())


def print_scores(results: dict) -> None:
    for task, values in results["results"].items():
        scores = {key.split(",")[0]: value for key, value in values.items() if "," in key and "_stderr" not in key}
        print(f"  {task:<18} " + "  ".join(f"{name} {value:.3f}" for name, value in scores.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blank", action="store_true", help="also run the demo_blank control")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for the evaluation (default: unset)")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    extra = ["--blank"] if args.blank else []
    with tempfile.TemporaryDirectory() as tmp:
        # A fresh datasets cache: the first run pays for converting the parquet files, as
        # on a fresh machine; later runs read the cache.
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_CACHE": str(Path(tmp) / "datasets")}
        if args.threads is not None:
            env["OMP_NUM_THREADS"] = str(args.threads)
        threads = args.threads if args.threads is not None else "default"
        for repeat in range(args.repeats):
            label = "first run, empty datasets cache" if repeat == 0 else "datasets cache warm"
            wall, peak, results = run_once(extra, env, Path(tmp) / f"out{repeat}")
            print(f"lmms-eval demo{''.join(' ' + flag for flag in extra)} (threads {threads}, {label}): {wall:.1f} s wall, {peak} MB peak RSS")
        print_scores(results)


if __name__ == "__main__":
    main()
