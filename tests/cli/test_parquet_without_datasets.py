"""A run over a task on local parquet files never imports HF `datasets` (nor pandas), and
scores exactly as the `datasets` path does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmms_eval.cli.main import main
from lmms_eval.taskdefs import local_parquet

CHILD = """
import json, sys
from lmms_eval.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "imported": sorted(name for name in ("datasets", "pandas") if name in sys.modules)}))
"""


def run_arguments(server, task_folder: Path, output: Path) -> list[str]:
    return [
        "--model", "openai", "--model_args", f"base_url={server.base_url},model=colour-oracle",
        "--tasks", "colours", "--include_path", str(task_folder), "--output_path", str(output), "--log_samples",
    ]  # fmt: skip


def results_and_samples(output: Path) -> tuple[dict, list[dict]]:
    [results] = list(output.glob("*/*_results.json"))
    [samples] = list(output.glob("*/*_samples_colours_*.jsonl"))
    return json.loads(results.read_text())["results"], [json.loads(line) for line in samples.read_text().splitlines()]


def test_a_local_parquet_run_imports_no_datasets_and_scores_alike(oracle, colour_task, tmp_path, monkeypatch: pytest.MonkeyPatch):
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, *run_arguments(oracle, colour_task, tmp_path / "direct")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "imported": []}
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(local_parquet, "local_splits", lambda *args: None)  # the datasets path, as before
    assert main(run_arguments(oracle, colour_task, tmp_path / "fallback")) == 0
    assert results_and_samples(tmp_path / "direct") == results_and_samples(tmp_path / "fallback")
