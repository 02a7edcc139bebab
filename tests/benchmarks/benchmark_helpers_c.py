"""Shared by the TextVQA, VQAv2, GQA, DocVQA/InfoVQA, ChartQA and OCRBench tests: fixture
images and parquet files, a user task folder that points a library task at them, one CLI
run against the oracle server, and readers for what the run wrote."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lmms_eval.cli.main import main
from lmms_eval.testing.server import OracleServer


def image(seed: int, size: int = 10) -> dict[str, Any]:
    """A small image that differs by `seed`, as a `datasets.Image` value."""
    from PIL import Image

    picture = Image.new("RGB", (size, size), ((seed * 41) % 256, (seed * 89) % 256, (seed * 23) % 256))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def write_parquet(path: Path, rows: Sequence[dict[str, Any]], features: Any) -> Path:
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(list(rows), features=features).to_parquet(str(path))
    return path


def user_task(folder: Path, name: str, include: str, split: str, data_file: Path, extra: str = "") -> Path:
    """A YAML that points a library task at a local parquet file, as a user would
    (`dataset_name: null` drops the Hub configuration name)."""
    text = f"""
    include: {include}
    task: {name}
    dataset_path: parquet
    dataset_name: null
    dataset_kwargs:
      data_files:
        {split}: {data_file}
    """
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip() + textwrap.dedent(extra), encoding="utf-8")
    return path


def evaluate(tasks: str, folder: Path, output: Path, canned: Mapping[str, str]) -> int:
    """The CLI, in-process, against an oracle server that answers from `canned`."""
    with OracleServer(canned=canned) as server:
        return main(
            [
                "--model", "openai",
                "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
                "--tasks", tasks,
                "--include_path", str(folder),
                "--output_path", str(output),
                "--log_samples",
            ]
        )


def read_results(output: Path) -> dict[str, Any]:
    [path] = list(output.glob("*/*_results.json"))
    return json.loads(path.read_text())


def read_samples(output: Path, task: str) -> list[dict[str, Any]]:
    [path] = list(output.glob(f"*/*_samples_{task}_model_outputs.jsonl"))  # the default --log_samples_suffix
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return sorted(rows, key=lambda row: row["doc_id"])


def prompt_text(sample: dict[str, Any]) -> str:
    """The text part of a logged chat prompt (one user message: the image, then the text)."""
    return sample["prompt"][0]["content"][-1]["text"]


def sample_scores(samples: Sequence[dict[str, Any]], metric: str) -> list[Any]:
    return [row["scores"]["none"][metric] for row in samples]
