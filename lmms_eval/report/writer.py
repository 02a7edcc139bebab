"""Where output files go: output_path/<model name>/<timestamp>_results.json and samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lmms_eval.evaluator import Evaluation
from lmms_eval.report.files import Redactor, to_json_text, write_atomic
from lmms_eval.report.results import build_results, sanitize_model_name
from lmms_eval.report.samples import sample_rows


def redactor_for(evaluation: Evaluation) -> Redactor:
    secret_names = evaluation.model_class.secret_args
    secrets = [value for name, value in evaluation.model_args.items() if name in secret_names and isinstance(value, str)]
    return Redactor(secrets)


def write_outputs(evaluation: Evaluation, output_path: Path) -> list[Path]:
    """Write the results JSON and (with --log_samples) one JSONL per task; return the paths."""
    redact = redactor_for(evaluation)
    folder = output_path / sanitize_model_name(evaluation.model_identity)
    stamp = dt.datetime.fromtimestamp(evaluation.started_at).strftime("%Y-%m-%dT%H-%M-%S.%f")
    written = []
    if evaluation.run.log_samples:
        for name, task_run in evaluation.task_runs.items():
            path = folder / f"{stamp}_samples_{name}_{evaluation.run.log_samples_suffix}.jsonl"
            lines = [to_json_text(row, redact, indent=None) for row in sample_rows(task_run)]
            write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
            written.append(path)
    results_path = folder / f"{stamp}_results.json"
    write_atomic(results_path, to_json_text(build_results(evaluation), redact) + "\n")
    written.append(results_path)
    return written
