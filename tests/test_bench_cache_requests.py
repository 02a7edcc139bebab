"""benchmarks/bench_cache_requests.py runs end to end and prints each figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cache_requests.py"


def test_bench_cache_requests_prints_built_cached_and_rerun_figures(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    completed = subprocess.run([sys.executable, str(BENCH), "--docs", "30", "--repeats", "1"], capture_output=True, text=True, env=env, timeout=240)
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.splitlines()
    for task in ("bench_text", "bench_image"):
        [line] = [line for line in lines if line.startswith(f"{task}: ")]
        assert re.search(r"\(a\) built [\d.]+ s .*\(b\) built and cached [\d.]+ s .*\(c\) from the cache [\d.]+ s", line), line
    [rerun] = [line for line in lines if line.startswith("bench_image re-run")]
    assert re.search(r"\(d\) without the request cache [\d.]+ s .*\(e\) with it [\d.]+ s", rerun), rerun
