"""What the evaluation command and the subcommands that run or score evaluations share:
logging set-up, running one evaluation, and the closing table with its exit status."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from lmms_eval.config import RunConfig
from lmms_eval.errors import ConfigError

logger = logging.getLogger("lmms_eval")

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # every LmmsEvalError unless it says otherwise
EXIT_REQUESTS_FAILED = 3  # the run finished, but some answers are missing
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report a process the signal ended


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so it unwinds through the same clean-ups
    (the backend closes, the store closes; answers are committed as they arrive)."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated in the main thread; the previous handler
    is put back after (tests call main() in-process)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_one(run: RunConfig) -> int:
    from lmms_eval.engine.distributed import ProcessGroup
    from lmms_eval.evaluator import evaluate, select_tasks
    from lmms_eval.report.sharing import check_sharing, share
    from lmms_eval.report.writer import OutputWriter

    selection = select_tasks(run)
    check_sharing(run)  # W&B and HF Hub settings, before any request
    if run.show_config:
        _print_configs(selection)
    group = ProcessGroup.from_environment()
    output_dir = run.output_dir() if group.is_main else None  # rank 0 alone scores and writes
    writer = OutputWriter(output_dir) if output_dir is not None else None
    if writer is not None:
        writer.check_writable()  # before the model is built: a run must not be asked only to be lost
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
    status = report_end(evaluation)
    status = max(status, report_unshared(share(run, evaluation, writer.written if writer else [])))
    if writer is not None and writer.errors:
        store = run.use_cache
        kept = f"the answers are in the store {store}: run the same command again to write them" if store else "the answers were not stored (no --use_cache)"
        return report_unwritten(writer, kept)
    return status


def report_unwritten(writer: Any, kept: str) -> int:
    """Writing failed after the check (disk full, folder removed): the table was printed;
    say what was lost and where the answers are (`kept`)."""
    print(f"lmms-eval: error: {writer.errors[0]} ({len(writer.errors)} files not written); {kept}", file=sys.stderr)
    return EXIT_BAD_INPUT


def report_unshared(errors: list[str]) -> int:
    """W&B or the Hub could not be sent the run (its files are written): one line each."""
    for error in errors:
        print(f"lmms-eval: error: {error}", file=sys.stderr)
    return EXIT_BAD_INPUT if errors else EXIT_OK


def report_end(evaluation: Any) -> int:
    """Print the table; the exit status says whether every request was answered."""
    from lmms_eval.report.table import print_table

    print_table(evaluation)
    warn_empty_answers(evaluation)
    status = EXIT_OK
    if evaluation.failed_requests:
        print(f"lmms-eval: {evaluation.failed_requests} requests failed; their docs are not scored", file=sys.stderr)
        status = EXIT_REQUESTS_FAILED
    if evaluation.failed_judge_calls:
        print(
            f"lmms-eval: {evaluation.failed_judge_calls} judge calls failed; the benchmark's failure value stands for them (each judge entry's 'failures')",
            file=sys.stderr,
        )
        status = EXIT_REQUESTS_FAILED
    return status


def warn_empty_answers(evaluation: Any) -> None:
    """Empty answers are scored by the task's rule (most count them wrong, some leave them
    out, as MVBench does); a model may truly answer nothing, so one line says so."""
    from lmms_eval.report.results import empty_answers

    counts = {name: empty_answers(task_run.answered) for name, task_run in evaluation.task_runs.items()}
    counts = {name: count for name, count in counts.items() if count}
    if counts:
        tasks = ", ".join(f"{name}: {count}" for name, count in counts.items())
        print(
            f"lmms-eval: warning: {sum(counts.values())} answers were empty ({tasks}) and are scored by each task's rule (most count them wrong); "
            "`lmms-eval cache clear --empty FILE` lets a --use_cache run ask them again",
            file=sys.stderr,
        )


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
