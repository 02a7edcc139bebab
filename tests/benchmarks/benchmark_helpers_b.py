"""Helpers for the benchmark tests of MMMU, ScienceQA, AI2D and MMBench.

Each test builds a small copy of a benchmark's split (same columns and types, tiny
generated images) as parquet, points the library task at it through a user YAML that
`include:`s it, and runs the real CLI against the local OpenAI-compatible oracle server
with scripted replies.
"""

from __future__ import annotations

import io
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.cli.main import main
from lmms_eval.testing.server import PALETTE, OracleServer


def image(colour: str, size: int = 16) -> dict[str, Any]:
    """A one-colour PNG in the form a `datasets.Image` column stores."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), PALETTE[colour]).save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def write_parquet(path: Path, rows: list[dict[str, Any]], features: Any) -> Path:
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows, features=features).to_parquet(str(path))
    return path


def user_task(folder: Path, task: str, include: str, split: str, data_file: str, extra: str = "") -> Path:
    """A user's YAML that reuses the library task on a local parquet file (it replaces the
    built-in task of the same name)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = f"""
    include: {include}
    task: {task}
    dataset_path: parquet
    dataset_kwargs:
      data_files:
        {split}: {data_file}
    """
    path = folder / f"{task}.yaml"
    path.write_text(textwrap.dedent(text).lstrip() + textwrap.dedent(extra), encoding="utf-8")
    return path


@dataclass
class BenchmarkRun:
    results: dict[str, Any]
    samples: list[dict[str, Any]]  # by doc id
    bodies: list[dict[str, Any]]  # the chat requests the server received
    table: str

    def scores(self, task: str) -> dict[str, Any]:
        return self.results["results"][task]


def run_benchmark(tmp_path: Path, task: str, folder: Path, canned: dict[str, str], capsys: Any = None) -> BenchmarkRun:
    output = tmp_path / "out"
    server = OracleServer(canned=canned, record_bodies=True).start()
    try:
        code = main(
            [
                "--model", "openai",
                "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
                "--tasks", task,
                "--include_path", str(folder),
                "--output_path", str(output),
                "--log_samples",
            ]
        )  # fmt: skip
        bodies = list(server.bodies)
    finally:
        server.stop()
    table = capsys.readouterr().out if capsys is not None else ""
    assert code == 0
    [results_path] = list(output.glob("*/*_results.json"))
    [samples_path] = list(output.glob(f"*/*_samples_{task}_*.jsonl"))
    samples = [json.loads(line) for line in samples_path.read_text().splitlines()]
    return BenchmarkRun(json.loads(results_path.read_text()), sorted(samples, key=lambda row: row["doc_id"]), bodies, table)


def prompt_text(sample: dict[str, Any]) -> str:
    """The text part of the (single) user message a sample was asked with."""
    [message] = sample["prompt"]
    texts = [part["text"] for part in message["content"] if part["type"] == "text"]
    return "".join(texts)


def image_count(sample: dict[str, Any]) -> int:
    [message] = sample["prompt"]
    return sum(part["type"] == "image" for part in message["content"])


def mean_stderr(values: list[float]) -> float:
    """Sample standard deviation (ddof=1) over sqrt(n), computed independently of numpy."""
    n = len(values)
    mean = sum(values) / n
    variance = sum((value - mean) ** 2 for value in values) / (n - 1)
    return (variance / n) ** 0.5
