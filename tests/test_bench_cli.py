"""benchmarks/bench_cli.py runs end to end and prints every figure issue 12 asks for."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cli.py"
FIGURE = r"median +[\d.]+ s +min +[\d.]+ s +CPU +[\d.]+ s( \(server +[\d.]+ s\))? +peak RSS +\d+ MB"


def test_bench_cli_prints_start_up_live_and_fully_cached_figures(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    completed = subprocess.run(
        [sys.executable, str(BENCH), "--samples", "12", "--image-size", "8", "--repeats", "1"],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.splitlines()

    def figure(label: str) -> str:
        [line] = [line for line in lines if line.startswith(label)]
        assert re.search(FIGURE, line), line
        return line

    figure("lmms-eval --help")
    figure("lmms-eval --tasks list")
    assert "(server" in figure("12 8x8 PNG requests, 100 ms, 256 in flight ")
    # the re-run is answered from the store after the server has been stopped
    figure("the same, all answered from the store, server stopped")
