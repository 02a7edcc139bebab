"""Where output files go: OUTPUT_PATH/<model name>/<timestamp>_... .

Each task's files are written as soon as it is scored (its samples log and a results file
of its own), so a run that dies in its eighth task keeps the first seven; the combined
results file follows at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from lmms_eval.errors import OutputError
from lmms_eval.evaluator import Evaluation, TaskRun
from lmms_eval.report.files import Redactor, check_writable_folder, remove_stale_temporaries, to_json_text, write_atomic

logger = logging.getLogger(__name__)
from lmms_eval.report.results import build_results, sanitize_model_name
from lmms_eval.report.samples import sample_rows


def redactor_for(evaluation: Evaluation, extra: tuple[str | None, ...] = ()) -> Redactor:
    """Blanks the model's secret args (and `extra` secrets, such as a Hub token)."""
    secret_names = evaluation.model_class.secret_args
    secrets = [value for name, value in evaluation.model_args.items() if name in secret_names and isinstance(value, str)]
    return Redactor([*secrets, *extra])


class OutputWriter:
    def __init__(self, output_path: Path):
        self.output_path = output_path
        self.written: list[Path] = []
        self.errors: list[OutputError] = []  # writes that failed; the run goes on (its answers may be stored)
        self._swept: set[Path] = set()

    def check_writable(self) -> None:
        """Raise OutputError now, before any request, if --output_path cannot take files."""
        check_writable_folder(self.output_path, "--output_path")

    def _prefix(self, evaluation: Evaluation) -> Path:
        folder = self.output_path / sanitize_model_name(evaluation.model_identity)
        stamp = dt.datetime.fromtimestamp(evaluation.started_at).strftime("%Y-%m-%dT%H-%M-%S.%f")
        return folder / stamp

    def task_done(self, evaluation: Evaluation, task_run: TaskRun) -> None:
        """The task's samples log (with --log_samples) and its own results file."""
        redact = redactor_for(evaluation)
        prefix, name = self._prefix(evaluation), task_run.task.name
        if evaluation.run.log_samples:
            lines = [to_json_text(row, redact, indent=None) for row in sample_rows(task_run, evaluation.run.model, evaluation.model_identity)]
            self._write(Path(f"{prefix}_samples_{name}_{evaluation.run.log_samples_suffix}.jsonl"), "\n".join(lines) + ("\n" if lines else ""))
        self._write(Path(f"{prefix}_results_{name}.json"), to_json_text(build_results(evaluation, only_task=name), redact) + "\n")

    def finish(self, evaluation: Evaluation) -> Path:
        path = Path(f"{self._prefix(evaluation)}_results.json")
        self._write(path, to_json_text(build_results(evaluation), redactor_for(evaluation)) + "\n")
        self._write_report(evaluation, path)
        return path

    def _write_report(self, evaluation: Evaluation, results_path: Path) -> None:
        """`<stamp>_report.html` beside the results (lmms_eval/report/html.py)."""
        from lmms_eval.report.html import render_report
        from lmms_eval.report.html_build import report_path_for, run_from_evaluation

        try:
            run, thumbnails = run_from_evaluation(evaluation, redactor_for(evaluation))
            page = render_report([run], thumbnails)
        except Exception as error:  # noqa: BLE001 - the results are written; a report bug must not fail the run
            logger.error("report not written (%s: %s); `lmms-eval report %s` can retry", type(error).__name__, error, results_path)
            return
        self._write(report_path_for(results_path), page)

    def _write(self, path: Path, text: str) -> None:
        if path.parent not in self._swept:  # temporary files a killed run left in this folder
            self._swept.add(path.parent)
            remove_stale_temporaries(path.parent)
        try:
            write_atomic(path, text)
        except OutputError as error:
            logger.error("%s", error)
            self.errors.append(error)
            return
        self.written.append(path)
