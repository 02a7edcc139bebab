"""benchmarks/bench_judge.py runs end to end through the judge stage and prints its figures;
the second run reaches the judge with no request."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_judge.py"


def test_bench_judge_prints_live_and_stored_figures() -> None:
    argv = [sys.executable, str(BENCH), "--samples", "12", "--repeats", "2", "--latency", "0.01"]
    completed = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    [live] = [line for line in completed.stdout.splitlines() if line.startswith("live judging:")]
    assert re.search(r"[\d.]+ s wall, 24 calls, 0 failures .* score 50\.0, std 0\.00 over 2 repeats", live), live
    [second] = [line for line in completed.stdout.splitlines() if line.startswith("second run:")]
    assert re.search(r"0 calls, 24 from the store, 0 requests reached the judge", second), second
