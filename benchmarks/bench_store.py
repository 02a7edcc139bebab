"""Figures for the response store (issue: runs that survive anything).

Prints:
- store overhead per request: one put (its own committed transaction) and one get;
  target < 0.2 ms;
- store size per 1,000 answers;
- wall time of a fully cached re-run of the 2,000-sample image task, start-up included
  (target < 2 s), next to the uncached run's.

Run: uv run python benchmarks/bench_store.py [--samples 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_cli import build_task, start_server  # noqa: E402

from lmms_eval.api.request import Origin, Request, RequestType  # noqa: E402
from lmms_eval.api.response import Response, Usage  # noqa: E402
from lmms_eval.store.sqlite import ResponseStore  # noqa: E402


def measure_overhead(folder: Path, count: int = 5000) -> None:
    store = ResponseStore(folder / "overhead.db")
    requests = [Request(RequestType.GENERATE_UNTIL, Origin("bench", i), f"question {i}", gen_kwargs={"until": ["\n\n"]}) for i in range(count)]
    responses = [Response.generated(request, f"answer number {i}", Usage(40, 3)) for i, request in enumerate(requests)]
    start = time.perf_counter()
    for response in responses:
        store.put("model-key", "openai:bench", response)
    put_ms = (time.perf_counter() - start) / count * 1000
    start = time.perf_counter()
    for request in requests:
        store.get("model-key", request)
    get_ms = (time.perf_counter() - start) / count * 1000
    size_kb = store.size_bytes() / 1024 / (count / 1000)
    store.close()
    print(f"store overhead per request: put {put_ms:.3f} ms (committed), get {get_ms:.3f} ms; {size_kb:.0f} KB per 1,000 short answers")


def measure_cached_rerun(samples: int, folder: Path, env: dict[str, str]) -> None:
    task_dir = folder / "task"
    task_dir.mkdir()
    build_task(task_dir, samples, 64)
    server, base_url = start_server(0.1, env)
    command = [
        sys.executable, "-m", "lmms_eval", "--model", "openai",
        "--model_args", f"base_url={base_url},model=colour-oracle,num_concurrent=256",
        "--tasks", "bench_colours", "--include_path", str(task_dir), "--verbosity", "WARNING",
        "--use_cache", str(folder / "cache.db"),
    ]
    try:
        for label in ("uncached run (answers stored)", "fully cached re-run"):
            start = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            if completed.returncode != 0:
                raise SystemExit(completed.stderr[-500:])
            print(f"{samples} samples, {label}: {wall:.2f} s wall")
    finally:
        server.terminate()
        server.wait(timeout=10)
    size = (folder / "cache.db").stat().st_size + sum(p.stat().st_size for p in folder.glob("cache.db-wal"))
    print(f"store with {samples} answers: {size / 1024:.0f} KB ({size / 1024 / samples * 1000:.0f} KB per 1,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HF_HOME": str(Path(tmp) / "hf"), "HF_HUB_OFFLINE": "1"}
        measure_overhead(Path(tmp))
        measure_cached_rerun(args.samples, Path(tmp), env)


if __name__ == "__main__":
    main()
