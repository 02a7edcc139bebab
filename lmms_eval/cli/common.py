"""What the evaluation command and the subcommands that run or score evaluations share:
logging set-up, running one evaluation, and the closing table with its exit status."""

from __future__ import annotations

import logging
import sys
from typing import Any

from lmms_eval.config import RunConfig
from lmms_eval.errors import ConfigError

logger = logging.getLogger("lmms_eval")

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # every LmmsEvalError unless it says otherwise
EXIT_REQUESTS_FAILED = 3  # the run finished, but some answers are missing
EXIT_INTERRUPTED = 130


def run_one(run: RunConfig) -> int:
    from lmms_eval.engine.distributed import ProcessGroup
    from lmms_eval.evaluator import evaluate, select_tasks
    from lmms_eval.report.writer import OutputWriter

    selection = select_tasks(run)
    if run.show_config:
        _print_configs(selection)
    group = ProcessGroup.from_environment()
    output_dir = run.output_dir() if group.is_main else None  # rank 0 alone scores and writes
    writer = OutputWriter(output_dir) if output_dir is not None else None
    try:
        evaluation = evaluate(run, selection, on_task_done=writer.task_done if writer else None, group=group)
    finally:
        group.close()
    if not group.is_main:
        return EXIT_OK
    if writer is not None:
        writer.finish(evaluation)
        for path in writer.written:
            logger.info("wrote %s", path)
    print(f"\n{run.model} ({evaluation.model_identity}), limit={run.limit}, num_fewshot={run.num_fewshot}, batch_size={run.batch_size}")
    return report_end(evaluation)


def report_end(evaluation: Any) -> int:
    """Print the table; the exit status says whether every request was answered."""
    from lmms_eval.report.table import render_table

    print(render_table(evaluation))
    if evaluation.failed_requests:
        print(f"lmms-eval: {evaluation.failed_requests} requests failed; their docs are not scored", file=sys.stderr)
        return EXIT_REQUESTS_FAILED
    return EXIT_OK


def _print_configs(selection: Any) -> None:
    import yaml

    for name, config in selection.configs.items():
        print(f"# {name} ({config.source})")
        print(yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True))


def configure_logging(verbosity: str) -> None:
    verbosity = str(verbosity).upper()
    if verbosity not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"verbosity must be DEBUG, INFO, WARNING or ERROR, not {verbosity}")
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S", level=verbosity, force=True)
    for noisy in ("httpx", "urllib3", "datasets", "filelock", "fsspec", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(verbosity)))
