"""Shared by the MME, POPE, MMStar, RealWorldQA and SEED-Bench tests: fixture images and
parquet files, a user task folder that points a library task at them, and one CLI run."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lmms_eval.cli.main import main
from lmms_eval.testing.server import OracleServer


def task_module(family: str, module: str = "utils") -> Any:
    """A library task's Python module (e.g. lmms_eval/tasks/mme/utils.py), for unit tests."""
    import importlib.util

    from lmms_eval.tasks.index import BUILTIN_TASK_DIR

    path = BUILTIN_TASK_DIR / family / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_tests_{family}_{module}", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def library_config(relative: str) -> Any:
    """A library task YAML (includes merged) as a TaskConfig, without indexing the whole library."""
    from lmms_eval.tasks.config import TaskConfig
    from lmms_eval.tasks.index import BUILTIN_TASK_DIR
    from lmms_eval.tasks.yaml_io import load_with_includes

    path = BUILTIN_TASK_DIR / relative
    return TaskConfig.from_dict(load_with_includes(path), str(path))


def png(seed: int, size: int = 12) -> dict[str, Any]:
    """A small, distinct image (two colour bands that depend on `seed`) as a datasets Image value."""
    from PIL import Image

    image = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    image.paste(((seed * 11) % 256, 200, 40), (0, 0, size, size // 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def write_parquet(path: Path, rows: Sequence[dict[str, Any]], features: Any) -> Path:
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(list(rows), features=features).to_parquet(str(path))
    return path


def user_task(folder: Path, name: str, include: str, split: str, data_file: str, extra: str = "") -> Path:
    """A YAML that re-points a library task at a local parquet file, as a user would."""
    text = f"""
    include: {include}
    task: {name}
    dataset_path: parquet
    dataset_kwargs:
      data_files:
        {split}: {data_file}
    """
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip() + textwrap.dedent(extra), encoding="utf-8")
    return path


def evaluate(tasks: str, folder: Path, output: Path, canned: Mapping[str, str], *extra: str) -> int:
    """Run the CLI in-process against an oracle server that answers from `canned`."""
    with OracleServer(canned=canned) as server:
        return main(
            [
                "--model", "openai",
                "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
                "--tasks", tasks,
                "--include_path", str(folder),
                "--output_path", str(output),
                "--log_samples",
                *extra,
            ]
        )


def read_results(output: Path) -> dict[str, Any]:
    [path] = list(output.glob("*/*_results.json"))
    return json.loads(path.read_text())


def read_samples(output: Path, task: str) -> list[dict[str, Any]]:
    [path] = list(output.glob(f"*/*_samples_{task}_*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def prompt_text(sample: dict[str, Any]) -> str:
    """The text part of a logged chat prompt (one user message: images, then text)."""
    return sample["prompt"][0]["content"][-1]["text"]


def image_count(sample: dict[str, Any]) -> int:
    return sum(part["type"] == "image" for part in sample["prompt"][0]["content"])
