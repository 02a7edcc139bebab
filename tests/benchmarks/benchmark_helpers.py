"""Shared by the benchmark tests.

Each test builds a small copy of a benchmark's split (same columns and types, tiny generated
images) as parquet, points the library task at it through a user YAML that `include:`s it,
runs the real CLI in-process against the local OpenAI-compatible oracle server with scripted
replies, and reads back what the run wrote.
"""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.cli.main import main
from lmms_eval.testing.server import PALETTE, OracleServer

# --- library task code and configs ----------------------------------------------------------


def task_module(family: str, module: str = "utils") -> Any:
    """A fresh copy of a library task's Python module (e.g. lmms_eval/tasks/mme/utils.py), for unit tests."""
    import importlib.util

    from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

    path = BUILTIN_TASK_DIR / family / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_tests_{family}_{module}", path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def library_config(relative: str) -> Any:
    """A library task YAML (includes merged) as a TaskConfig, without indexing the whole library."""
    from lmms_eval.taskdefs.config import TaskConfig
    from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR
    from lmms_eval.taskdefs.yaml_io import load_with_includes

    path = BUILTIN_TASK_DIR / relative
    return TaskConfig.from_dict(load_with_includes(path), str(path))


# --- fixture images (values for a `datasets.Image` column) -----------------------------------


def _image_value(picture: Any) -> dict[str, Any]:
    """A PIL image as the PNG bytes a `datasets.Image` column stores."""
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def palette_image(colour: str, size: int = 16) -> dict[str, Any]:
    """A one-colour image in a colour of the oracle server's palette, so that prompts with no
    canned reply get the colour names as the answer."""
    from PIL import Image

    return _image_value(Image.new("RGB", (size, size), PALETTE[colour]))


def solid_image(seed: int, size: int = 10) -> dict[str, Any]:
    """A one-colour image whose colour, ((seed*41) % 256, (seed*89) % 256, (seed*23) % 256),
    differs by `seed`."""
    from PIL import Image

    return _image_value(Image.new("RGB", (size, size), ((seed * 41) % 256, (seed * 89) % 256, (seed * 23) % 256)))


def banded_image(seed: int, size: int = 12) -> dict[str, Any]:
    """An image of two colour bands (a top third over the rest), both depending on `seed`."""
    from PIL import Image

    picture = Image.new("RGB", (size, size), ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    picture.paste(((seed * 11) % 256, 200, 40), (0, 0, size, size // 3))
    return _image_value(picture)


# --- the fixture split and the user task -----------------------------------------------------


def write_parquet(path: Path, rows: Sequence[dict[str, Any]], features: Any) -> Path:
    import datasets

    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(list(rows), features=features).to_parquet(str(path))
    return path


def user_task(
    folder: Path,
    name: str,
    include: str,
    split: str,
    data_file: str | Path,
    extra: str = "",
    *,
    keep_dataset_name: bool = False,
) -> Path:
    """A user's YAML that re-points a library task at a local parquet file (it replaces the
    built-in task of the same name). `dataset_name: null` drops the Hub configuration name
    unless `keep_dataset_name`; `extra` is more YAML, appended."""
    dataset_name = "" if keep_dataset_name else "dataset_name: null\n"
    text = f"include: {include}\ntask: {name}\ndataset_path: parquet\n{dataset_name}"
    text += f"dataset_kwargs:\n  data_files:\n    {split}: {data_file}\n"
    path = folder / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + textwrap.dedent(extra), encoding="utf-8")
    return path


# --- one CLI run and what it wrote -----------------------------------------------------------


def evaluate(
    tasks: str,
    folder: Path,
    output: Path,
    canned: Mapping[str, str],
    *extra: str,
    bodies: list[dict[str, Any]] | None = None,
) -> int:
    """Run the CLI in-process against an oracle server that answers from `canned`; `extra`
    are more CLI arguments. The chat requests the server received go into `bodies`, if given."""
    with OracleServer(canned=canned, record_bodies=bodies is not None) as server:
        code = main(
            [
                "--model", "openai",
                "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
                "--tasks", tasks,
                "--include_path", str(folder),
                "--output_path", str(output),
                "--log_samples",
                *extra,
            ]
        )  # fmt: skip
        if bodies is not None:
            bodies.extend(server.bodies)
    return code


def read_results(output: Path) -> dict[str, Any]:
    [path] = list(output.glob("*/*_results.json"))
    return json.loads(path.read_text())


def read_samples(output: Path, task: str) -> list[dict[str, Any]]:
    """One task's logged samples, by doc id."""
    [path] = list(output.glob(f"*/*_samples_{task}_model_outputs.jsonl"))  # the default --log_samples_suffix
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return sorted(rows, key=lambda row: row["doc_id"])


@dataclass
class BenchmarkRun:
    results: dict[str, Any]
    samples: list[dict[str, Any]]  # by doc id
    bodies: list[dict[str, Any]]  # the chat requests the server received
    table: str  # what the CLI printed, when run with capsys

    def scores(self, task: str) -> dict[str, Any]:
        return self.results["results"][task]


def run_benchmark(tmp_path: Path, task: str, folder: Path, canned: Mapping[str, str], capsys: Any = None) -> BenchmarkRun:
    """One task's CLI run that must succeed, with everything it wrote and was sent."""
    output = tmp_path / "out"
    bodies: list[dict[str, Any]] = []
    code = evaluate(task, folder, output, canned, bodies=bodies)
    table = capsys.readouterr().out if capsys is not None else ""
    assert code == 0
    return BenchmarkRun(read_results(output), read_samples(output, task), bodies, table)


# --- reading logged samples ------------------------------------------------------------------


def prompt_text(sample: dict[str, Any]) -> str:
    """The text part of the (single) user message a sample was asked with."""
    [message] = sample["prompt"]
    return "".join(part["text"] for part in message["content"] if part["type"] == "text")


def image_count(sample: dict[str, Any]) -> int:
    [message] = sample["prompt"]
    return sum(part["type"] == "image" for part in message["content"])


def sample_scores(samples: Sequence[dict[str, Any]], metric: str) -> list[Any]:
    return [row["scores"]["none"][metric] for row in samples]


def mean_stderr(values: Sequence[float]) -> float:
    """Sample standard deviation (ddof=1) over sqrt(n), computed independently of numpy."""
    n = len(values)
    mean = sum(values) / n
    variance = sum((value - mean) ** 2 for value in values) / (n - 1)
    return (variance / n) ** 0.5
