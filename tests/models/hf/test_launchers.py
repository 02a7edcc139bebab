"""Tiny VLMs through the whole CLI: one process, torchrun data parallel, and a real
`transformers serve` server evaluated through the openai backend."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""}


def run_cli(prefix: list[str], args: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    completed = subprocess.run([*prefix, *args], capture_output=True, text=True, env=env(), timeout=timeout)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def read(output: Path, pattern: str) -> list:
    [path] = output.glob(f"*/*{pattern}")
    text = path.read_text()
    return [json.loads(line) for line in text.splitlines()] if path.suffix == ".jsonl" else json.loads(text)


def stable(results: dict) -> dict:
    return {key: value for key, value in results.items() if key not in ("date", "total_evaluation_time_seconds", "throughput")}


def test_torchrun_two_processes_give_the_same_results_as_one(qwen_path, colour_task, tmp_path):
    args = ["--model", "qwen2_5_vl", "--model_args", f"pretrained={qwen_path},batch_size=2", "--tasks", "colours",
            "--include_path", str(colour_task), "--log_samples"]
    run_cli([sys.executable, "-m", "lmms_eval"], [*args, "--output_path", str(tmp_path / "one")])
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()), "-m", "lmms_eval"]
    run_cli(torchrun, [*args, "--output_path", str(tmp_path / "two")])
    assert stable(read(tmp_path / "one", "_results.json")) == stable(read(tmp_path / "two", "_results.json"))
    assert read(tmp_path / "one", ".jsonl") == read(tmp_path / "two", ".jsonl")
    assert len(list((tmp_path / "two").rglob("*_results.json"))) == 1  # rank 0 alone writes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served_model(qwen_path):
    """`transformers serve` on 127.0.0.1 with the tiny model; stopped by the fixture."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "transformers"), "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    server = subprocess.Popen(command, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"transformers serve exited: {server.stderr.read()[-2000:]}")
            try:
                urllib.request.urlopen(f"{base_url}/models", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not start in 120 s")
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_a_transformers_serve_server_through_the_openai_backend(served_model, qwen_path, colour_task, tmp_path):
    output = tmp_path / "out"
    run_cli([sys.executable, "-m", "lmms_eval"], [
        "--model", "openai", "--model_args", f"base_url={served_model},model={qwen_path},max_retries=1,num_concurrent=2,send_stop=false",
        "--tasks", "colours", "--include_path", str(colour_task), "--limit", "3", "--output_path", str(output), "--log_samples",
        "--gen_kwargs", "max_new_tokens=4",
    ])
    results = read(output, "_results.json")
    assert results["requests"]["colours"]["failed"] == 0 and results["requests"]["colours"]["total"] == 3
    assert all(isinstance(row["resps"][0], str) for row in read(output, ".jsonl"))
