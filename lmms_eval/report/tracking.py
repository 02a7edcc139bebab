"""Weights & Biases: `--wandb_args project=...,name=...,mode=...`.

A run logs its configuration, the scores as summary values and as a metrics table, the
cost and throughput figures, and results.json as an artefact; `--wandb_log_samples` adds
one table per task with its samples (the first image each prompt showed, the prompt text,
answers, target, scores, failure). wandb is an extra, imported here only.
"""

from __future__ import annotations

import inspect
import json
import tempfile
from pathlib import Path
from typing import Any

from lmms_eval.errors import ConfigError
from lmms_eval.report.sharing import SharedRun

#: Longest side of the images put into sample tables (they are copies, not the model's input).
SAMPLE_IMAGE_SIDE = 384
_TEXT_LIMIT = 4000  # characters of a prompt or answer kept in a table cell


def _wandb() -> Any:
    try:
        import wandb
    except ImportError:
        raise ConfigError("--wandb_args needs the wandb package: install the extra (pip install 'lmms-eval[wandb]')") from None
    return wandb


def wandb_init_args(args: dict[str, Any]) -> dict[str, Any]:
    """--wandb_args as wandb.init takes them; a key it does not take is an error naming it."""
    wandb = _wandb()
    accepted = set(inspect.signature(wandb.init).parameters)
    unknown = sorted(key for key in args if key not in accepted or key == "config")
    if unknown:
        raise ConfigError(f"--wandb_args: wandb.init takes no argument {', '.join(unknown)} (e.g. project, name, mode, entity, group, job_type, notes)")
    return dict(args)


def log_to_wandb(args: dict[str, Any], shared: SharedRun, log_samples: bool) -> str:
    """Log the run; the W&B run's folder (offline) or URL."""
    wandb = _wandb()
    results = shared.results
    run = wandb.init(**wandb_init_args(args), config=run_config(results))
    exit_code = 1  # until everything is logged: a run whose logging failed is marked failed in W&B
    try:
        run.summary.update(summary_values(results))
        # Mixed types: a Value may be a number or a dict of sub-scores, a Stderr a number or N/A.
        run.log({"evaluation/metrics": wandb.Table(columns=list(METRIC_COLUMNS), data=metric_rows(results), allow_mixed_types=True)})
        if log_samples:
            for task, rows in shared.samples.items():
                images = _sample_images(shared, task)
                cells = [sample_cells(row, images, wandb.Image) for row in rows]
                run.log({f"samples/{task}": wandb.Table(columns=list(SAMPLE_COLUMNS), data=cells, allow_mixed_types=True)})
        with tempfile.TemporaryDirectory(prefix="lmms-eval-wandb-") as scratch:  # the artefact's files are staged (copied) when added
            run.log_artifact(_results_artifact(wandb, shared, log_samples, Path(scratch)))
        where = getattr(run, "dir", None) or getattr(run, "url", None) or ""
        exit_code = 0
    finally:
        run.finish(exit_code=exit_code)
        # finish() can return before W&B's service process has written the run's records
        # (its offline .wandb file may still hold only a header); teardown waits for it.
        wandb.teardown()
    return str(where)


def run_config(results: dict[str, Any]) -> dict[str, Any]:
    """The run's settings (redacted), the tasks' configs and versions, and provenance."""
    keys = ("model_name", "git_hash", "python_version", "package_versions", "task_hashes", "versions", "n-shot", "date", "source")
    return {**results.get("config", {}), "task_configs": results.get("configs", {}), **{key: results.get(key) for key in keys}}


def summary_values(results: dict[str, Any]) -> dict[str, Any]:
    """`task/metric,filter` -> score (numbers only), for tasks and groups; `task/throughput/...` figures."""
    values: dict[str, Any] = {}
    for section in ("results", "groups"):
        for task, entry in results.get(section, {}).items():
            values.update({f"{task}/{key}": value for key, value in entry.items() if _is_number(value)})
    for task, entry in results.get("throughput", {}).items():
        values.update({f"{task}/throughput/{key}": value for key, value in entry.items() if _is_number(value)})
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


METRIC_COLUMNS = ("Task", "Version", "Filter", "n-shot", "Metric", "Value", "Stderr")


def metric_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for section in ("results", "groups"):
        for task, entry in results.get(section, {}).items():
            version = results.get("versions", {}).get(task)
            shots = results.get("n-shot", {}).get(task)
            for key, value in entry.items():
                metric, _, filter_name = key.partition(",")
                if not filter_name or metric.endswith("_stderr"):
                    continue
                stderr = entry.get(f"{metric}_stderr,{filter_name}")
                rows.append([task, _text(version), filter_name, _text(shots), metric, _cell(value), _cell(stderr)])
    return rows


SAMPLE_COLUMNS = ("doc_id", "image", "prompt", "target", "response", "filtered", "scores", "failure")


def sample_cells(row: dict[str, Any], images: dict[str, Any], make_image: Any) -> list[Any]:
    digest = next(iter(media_digests(row.get("prompt"))), None)
    image = images.get(digest) if digest else None
    failures = row.get("failures") or []
    return [
        row.get("doc_id"),
        make_image(image) if image is not None else None,
        _clip(prompt_text(row.get("prompt"))),
        _clip(_json(row.get("target"))),
        _clip(_json(row.get("resps"))),
        _clip(_json(row.get("filtered_resps"))),
        _json(row.get("scores")),
        "; ".join(f"{failure.get('kind')}: {failure.get('message')}" for failure in failures),
    ]


def prompt_text(prompt: Any) -> str:
    """A logged prompt's text: plain text as is, chat messages as `role: text` lines."""
    if not isinstance(prompt, list):
        return "" if prompt is None else str(prompt)
    lines = []
    for message in prompt:
        content = message.get("content") if isinstance(message, dict) else None
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else [part for part in content or [] if isinstance(part, dict)]
        text = " ".join(str(part.get("text", "")) for part in parts if part.get("type") == "text")
        lines.append(f"{message.get('role', '')}: {text}")
    return "\n".join(lines)


def media_digests(prompt: Any) -> list[str]:
    """The digests of the images a logged chat prompt shows, in order."""
    if not isinstance(prompt, list):
        return []
    found = []
    for message in prompt:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "image" and isinstance(part.get("digest"), str):
                found.append(part["digest"])
    return found


def _sample_images(shared: SharedRun, task: str) -> dict[str, Any]:
    """Small copies of the task's images by digest (the docs are loaded; a rescore has none)."""
    from lmms_eval.api.media import media_digest

    evaluation = shared.evaluation
    if evaluation is None or evaluation.source != "live" or task not in evaluation.task_runs:
        return {}
    task_run = evaluation.task_runs[task]
    docs = task_run.task.eval_docs()
    images: dict[str, Any] = {}
    for sample in task_run.samples:
        for visual in task_run.task.visuals(docs[sample.doc_id], sample.doc_id):
            if hasattr(visual, "thumbnail") and hasattr(visual, "copy"):  # a PIL image (not a video path or audio)
                small = visual.copy()
                small.thumbnail((SAMPLE_IMAGE_SIDE, SAMPLE_IMAGE_SIDE))
                images.setdefault(media_digest(visual), small)
    return images


def _results_artifact(wandb: Any, shared: SharedRun, log_samples: bool, scratch: Path) -> Any:
    """results.json (the file written, or the same JSON when the run wrote no files) and,
    with --wandb_log_samples, the samples logs written."""
    name = f"results-{shared.results.get('model_name_sanitized') or 'model'}"
    artifact = wandb.Artifact(name, type="eval_results", metadata={"date": shared.results.get("date")})
    path = shared.results_path
    if path is None:
        path = scratch / "results.json"
        path.write_text(json.dumps(shared.results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    artifact.add_file(str(path), name="results.json")
    if log_samples:
        for samples_path in shared.samples_paths():
            artifact.add_file(str(samples_path), name=samples_path.name)
    return artifact


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _cell(value: Any) -> Any:
    """Numbers stay numbers; anything else (N/A, a dict of sub-scores) becomes text, so a column has one type."""
    return value if _is_number(value) else _json(value)


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + " ..."
