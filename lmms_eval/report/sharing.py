"""Sending a finished run elsewhere: Weights & Biases (tracking.py) and the HF Hub (hub.py).

Both get the run exactly as its files hold it: the results and sample rows serialised and
passed through the same redactor, so no secret reaches a tracker that the files would not
hold either. Settings are checked before the model is asked anything; a failure to send
after the run is one error line (exit 2), with the results already written locally.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmms_eval.config import RunConfig, parse_scalar

logger = logging.getLogger(__name__)


@dataclass
class SharedRun:
    """What trackers receive: redacted results and sample rows, and the files written (if any)."""

    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]]
    written: list[Path] = field(default_factory=list)
    evaluation: Any = None  # for the images the samples' prompts name by digest

    @property
    def results_path(self) -> Path | None:
        combined = [path for path in self.written if path.name.endswith("_results.json") and "_results_" not in path.name]
        return combined[-1] if combined else None

    def samples_paths(self) -> list[Path]:
        return [path for path in self.written if "_samples_" in path.name and path.suffix == ".jsonl"]


def typed_args(raw: dict[str, Any]) -> dict[str, Any]:
    """`k=v` text typed as it looks (True, 3, none), like --gen_kwargs."""
    return {key: parse_scalar(value) if isinstance(value, str) else value for key, value in raw.items()}


def check_sharing(run: RunConfig) -> None:
    """Before any request: the trackers asked for are installed and their settings make sense."""
    if run.wandb_args:
        from lmms_eval.report.tracking import wandb_init_args

        wandb_init_args(typed_args(run.wandb_args))
    if run.hf_hub_log_args:
        from lmms_eval.report.hub import HubSettings

        HubSettings.from_args(typed_args(run.hf_hub_log_args)).check()


def run_redactor(run: RunConfig, evaluation: Any) -> Any:
    """The files' redactor, plus the Hub token when one is given in --hf_hub_log_args."""
    from lmms_eval.report.writer import redactor_for

    token = typed_args(run.hf_hub_log_args).get("token") if run.hf_hub_log_args else None
    return redactor_for(evaluation, (token if isinstance(token, str) else None,))


def shared_run(evaluation: Any, written: list[Path], redact: Any) -> SharedRun:
    from lmms_eval.report.files import to_json_text
    from lmms_eval.report.results import build_results
    from lmms_eval.report.samples import sample_rows

    results = json.loads(to_json_text(build_results(evaluation), redact))
    samples = {
        name: json.loads(to_json_text(sample_rows(task_run, evaluation.run.model, evaluation.model_identity), redact, indent=None))
        for name, task_run in evaluation.task_runs.items()
    }
    return SharedRun(results, samples, list(written), evaluation)


def share(run: RunConfig, evaluation: Any, written: list[Path]) -> list[str]:
    """Send the run to each tracker asked for; the errors, one line each (empty when all went well)."""
    if not (run.wandb_args or run.hf_hub_log_args):
        return []
    redact = run_redactor(run, evaluation)
    shared = shared_run(evaluation, written, redact)
    errors = []
    if run.wandb_args:
        errors += _attempt("W&B", lambda: _to_wandb(run, shared), redact)
    if run.hf_hub_log_args:
        errors += _attempt("HF Hub", lambda: _to_hub(run, shared), redact)
    return errors


def _to_wandb(run: RunConfig, shared: SharedRun) -> None:
    from lmms_eval.report.tracking import log_to_wandb

    where = log_to_wandb(typed_args(run.wandb_args), shared, log_samples=run.wandb_log_samples)
    logger.info("W&B: logged the run (%s)", where)


def _to_hub(run: RunConfig, shared: SharedRun) -> None:
    from lmms_eval.report.hub import HubSettings, push_to_hub

    for url in push_to_hub(HubSettings.from_args(typed_args(run.hf_hub_log_args)), shared):
        logger.info("HF Hub: pushed %s", url)


def _attempt(what: str, send: Any, redact: Any) -> list[str]:
    try:
        send()
    except Exception as error:  # noqa: BLE001 - the results are written; a tracker failing must not lose them
        logger.debug("%s failed", what, exc_info=True)
        return [redact.shorten(f"{what}: {type(error).__name__}: {error}", 500)]
    return []
