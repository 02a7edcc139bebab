"""Figures for the CLI's speed targets (issue 12: the README's own path).

Prints, each as the median of a few runs with the child's own peak RSS:
- cold wall time of `lmms-eval --help` and `lmms-eval --tasks list`;
- a 2,000-sample image task against a local OpenAI-compatible server that answers each
  request after 100 ms, with num_concurrent=256 (target: < 2 s; the floor is
  2,000 x 0.1 s / 256 = 0.8 s plus start-up);
- the same run answered entirely from the response store, with the server stopped
  (target: < 1 s);
peak RSS under 200 MB throughout.

Each line also gives the CPU seconds the evaluation itself used and, while a server runs,
the CPU seconds the server used in the same time: on a 2-core machine both compete for
the cores, and a server that needs about 1 ms of CPU per request bounds 2,000 requests
at about 2 s whatever the client does.

Run: uv run python benchmarks/bench_cli.py [--samples 2000] [--image-size 64] [--repeats 3]
Everything is built in a temporary folder and served on 127.0.0.1 only. Other processes
on the machine skew the figures: compare medians taken at a quiet moment.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    server_cpu: float | None
    peak_mb: float
    returncode: int
    stderr: str


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(command: list[str], env: dict[str, str], server_pid: int | None = None) -> Measured:
    """Wall seconds, CPU seconds and this child's own peak RSS (wait4 reports them per
    process, where RUSAGE_CHILDREN would give the largest child so far), and the CPU the
    server used meanwhile."""
    with tempfile.TemporaryFile("w+") as stderr:
        server_before = process_cpu_seconds(server_pid) if server_pid else None
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        server_cpu = process_cpu_seconds(server_pid) - server_before if server_pid else None
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return Measured(wall, cpu, server_cpu, usage.ru_maxrss / 1024, child.returncode, stderr.read())


def repeated(label: str, command: list[str], env: dict[str, str], repeats: int, before_each=None, server_pid: int | None = None) -> None:
    runs = []
    for _ in range(repeats):
        if before_each is not None:
            before_each()
        run = measure(command, env, server_pid)
        if run.returncode != 0:
            raise SystemExit(f"{label} failed (exit {run.returncode}): {run.stderr.strip()[-800:]}")
        runs.append(run)
    walls = [run.wall for run in runs]
    peak = max(run.peak_mb for run in runs)
    cpu = f"  CPU {statistics.median(run.cpu for run in runs):5.2f} s"
    if server_pid:
        cpu += f" (server {statistics.median(run.server_cpu for run in runs):5.2f} s)"
    print(f"{label:<62} median {statistics.median(walls):6.2f} s  min {min(walls):6.2f} s{cpu}  peak RSS {peak:4.0f} MB  ({repeats} runs)", flush=True)


def measure_light_commands(env: dict[str, str], repeats: int) -> None:
    for label, args in (("lmms-eval --help", ["--help"]), ("lmms-eval --tasks list", ["--tasks", "list"])):
        repeated(label, [sys.executable, "-m", "lmms_eval", *args], env, repeats)


def start_server(latency: float, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval.testing.server", "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    line = server.stdout.readline().strip()  # "listening on http://127.0.0.1:PORT/v1"
    return server, line.rsplit(" ", 1)[-1]


def measure_evaluation(samples: int, size: int, env: dict[str, str], workdir: Path, repeats: int) -> None:
    task_dir = workdir / "task"
    task_dir.mkdir()
    # Built in a child: this process stays small, since a child's peak RSS starts from its
    # parent's size at fork (Linux counts the copied address space until exec).
    build = [sys.executable, __file__, "--build-task", str(task_dir), "--samples", str(samples), "--image-size", str(size)]
    subprocess.run(build, env=env, check=True, stderr=subprocess.DEVNULL)
    store = workdir / "answers.db"
    server, base_url = start_server(0.1, env)
    command = [
        sys.executable, "-m", "lmms_eval", "--model", "openai",
        "--model_args", f"base_url={base_url},model=colour-oracle,num_concurrent=256",
        "--tasks", "bench_colours", "--include_path", str(task_dir), "--verbosity", "WARNING",
    ]
    try:
        first = measure(command, env, server.pid)  # cold: the task index cache and the server's colour memo fill
        if first.returncode != 0:
            raise SystemExit(f"evaluation failed: {first.stderr.strip()[-800:]}")
        print(f"{samples} requests, first run (cold caches, the server decodes every image): {first.wall:.2f} s, peak RSS {first.peak_mb:.0f} MB")
        shape = f"{samples} {size}x{size} PNG requests, 100 ms, 256 in flight"
        repeated(shape, command, env, repeats, server_pid=server.pid)
        into_store = [*command, "--use_cache", str(store)]
        repeated(f"{shape}, into a store", into_store, env, 1, before_each=lambda: store.unlink(missing_ok=True), server_pid=server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    # The server is down now: a fully cached run must not need it.
    repeated(f"the same, all answered from the store, server stopped", [*command, "--use_cache", str(store)], env, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--build-task", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_task is not None:
        build_task(args.build_task, args.samples, args.image_size)
        return
    with tempfile.TemporaryDirectory() as tmp:
        # The environment is used as it is (PYTHONDONTWRITEBYTECODE included): the figures
        # are those of the README's commands on this machine.
        env = {**os.environ, "HF_HOME": str(Path(tmp) / "hf"), "HF_HUB_OFFLINE": "1"}
        measure_light_commands(env, args.repeats)
        measure_evaluation(args.samples, args.image_size, env, Path(tmp), args.repeats)


if __name__ == "__main__":
    main()
