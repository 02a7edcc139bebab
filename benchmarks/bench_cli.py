"""Figures for the CLI's speed targets (issue: the first real evaluation).

Prints:
- cold wall time of `lmms-eval --help` and `lmms-eval --tasks list` (target: < 1 s each);
- wall time and peak memory of a 2,000-sample image task against a local
  OpenAI-compatible server that answers each request after 100 ms, with
  num_concurrent=256 (targets: < 3 s wall including start-up, < 400 MB peak).

Run: uv run python benchmarks/bench_cli.py [--samples 2000] [--image-size 64]
Everything is built in a temporary folder and served on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASK_YAML = """
task: bench_colours
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: data.parquet
test_split: test
doc_to_visual: image
doc_to_text: "What colour is this image? Answer with one word."
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 8
metric_list:
  - metric: exact_match
"""


def build_task(folder: Path, samples: int, size: int) -> None:
    import datasets
    from PIL import Image

    from lmms_eval.testing.server import PALETTE

    rng = random.Random(0)
    names = sorted(PALETTE)
    rows = []
    for _ in range(samples):
        colour = rng.choice(names)
        noise = bytes(rng.randrange(256) for _ in range(size * size * 3))
        image = Image.blend(Image.new("RGB", (size, size), PALETTE[colour]), Image.frombytes("RGB", (size, size), noise), 0.1)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        rows.append({"image": {"bytes": buffer.getvalue(), "path": None}, "answer": colour})
    features = datasets.Features({"image": datasets.Image(), "answer": datasets.Value("string")})
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(folder / "data.parquet"))
    (folder / "bench_colours.yaml").write_text(TASK_YAML)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds and the child's peak RSS in MB (Linux reports ru_maxrss in KB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is a running maximum; a fresh interpreter per measurement keeps it honest.
    return wall, max(peak, before) // 1024, completed


def measure_light_commands(env: dict[str, str], repeats: int) -> None:
    for label, args in (("--help", ["--help"]), ("--tasks list", ["--tasks", "list"])):
        walls = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lmms_eval", *args], capture_output=True, env=env, check=True)
            walls.append(time.perf_counter() - start)
        print(f"lmms-eval {label:<13} median {statistics.median(walls):.3f} s  min {min(walls):.3f} s  ({repeats} runs)")


def start_server(latency: float, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval.testing.server", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    line = server.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT/v1"
    return server, line.rsplit(" ", 1)[-1]


def measure_evaluation(samples: int, size: int, env: dict[str, str], workdir: Path) -> None:
    task_dir = workdir / "task"
    task_dir.mkdir()
    build_task(task_dir, samples, size)
    server, base_url = start_server(0.1, env)
    try:
        command = [
            sys.executable, "-m", "lmms_eval", "--model", "openai",
            "--model_args", f"base_url={base_url},model=colour-oracle,num_concurrent=256",
            "--tasks", "bench_colours", "--include_path", str(task_dir), "--verbosity", "WARNING",
        ]
        for label in ("first run (datasets builds its cache)", "cached run"):
            wall, peak, completed = timed(command, env)
            if completed.returncode != 0:
                raise SystemExit(f"evaluation failed: {completed.stderr.strip()[-500:]}")
            print(f"{samples} samples, {size}x{size} PNG, 100 ms/request, 256 in flight, {label}: {wall:.2f} s wall, {peak} MB peak RSS")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HF_HOME": str(Path(tmp) / "hf"), "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "0"}
        measure_light_commands(env, args.repeats)
        measure_evaluation(args.samples, args.image_size, env, Path(tmp))


if __name__ == "__main__":
    main()
