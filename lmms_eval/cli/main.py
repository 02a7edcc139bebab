"""`lmms-eval`: parse flags, run each evaluation, report; errors become one line."""

from __future__ import annotations

import atexit
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmms_eval.cli.args import TASK_LISTINGS, Parser, build_parser, flag_values
from lmms_eval.cli.common import (  # noqa: F401 - EXIT_REQUESTS_FAILED is part of the API
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REQUESTS_FAILED,
    EXIT_TERMINATED,
    Terminated,
    configure_logging,
    logger,
    run_one,
    sigterm_as_interrupt,
)
from lmms_eval.config import RunConfig, check_paths
from lmms_eval.errors import ConfigError, LmmsEvalError


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # the process's own command line (the console script, `python -m lmms_eval`)
        tune_collector_for_this_process()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with sigterm_as_interrupt():  # SIGTERM unwinds like Ctrl-C: stored answers stay stored
            return _dispatch(argv)
    except LmmsEvalError as error:
        if logger.isEnabledFor(logging.DEBUG):  # --verbosity DEBUG: the traceback too
            logger.exception("failed")
        print(f"lmms-eval: error: {one_line(str(error))}", file=sys.stderr)
        return error.exit_code
    except Terminated:
        print("lmms-eval: terminated (SIGTERM); answers received are kept in the --use_cache store, if any", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("lmms-eval: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# Young objects between collections of the youngest generation (Python's default: 700).
YOUNG_COLLECTION_THRESHOLD = 10_000


def tune_collector_for_this_process() -> None:
    """The cyclic garbage collector, set for a process that is one lmms-eval command.

    A run allocates in long bursts that mostly stay alive (rows, requests, answers): at
    Python's default threshold the youngest generation was collected about 150 times in
    a cached run of 2,000 requests, and each survivor was traversed again as it aged,
    about 70 ms in all; every 10,000 allocations is about 25 ms. And at exit the
    interpreter runs full collections over every object still alive while it tears the
    modules down (about 40 ms after that run): frozen objects are not traversed, so they
    are frozen once exit has begun (`_freeze_at_exit`); the run's files and its store are
    closed by then.

    Only for a call that is the whole process: tests call main(argv) many times in one
    process, where a freeze would keep every later cycle's garbage alive. Registering twice
    registers once."""
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    atexit.unregister(_freeze_at_exit)
    atexit.register(_freeze_at_exit)


def _freeze_at_exit() -> None:
    # Not once Triton is loaded (torch imports it with torchvision): its nanobind bindings
    # print each of their objects still alive when the interpreter ends as a leak, hundreds
    # of lines after the table, and objects kept by a freeze are. Such a run loaded torch,
    # which took far longer than the collections a freeze saves.
    if "triton" not in sys.modules:
        gc.freeze()


# Every character str.splitlines() breaks at: a user's value inside a message (a YAML
# key, a flag's text) may hold one, and the error must stay one line.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def one_line(message: str) -> str:
    """`message` with its line breaks written as escapes (`\\n`), so it prints as one line."""
    return "".join(char.encode("unicode_escape").decode("ascii") if char in _LINE_BREAKS else char for char in message)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    namespace = build_parser().parse_args(argv)
    flags = flag_values(namespace)
    config_path = getattr(namespace, "config", None)
    file_entries = _read_run_file(Path(config_path)) if config_path else [{}]
    configure_logging(flags.get("verbosity") or file_entries[0].get("verbosity") or "INFO")
    listing = flags.get("tasks") or file_entries[0].get("tasks")
    if listing in TASK_LISTINGS:
        include = flags.get("include_path") or file_entries[0].get("include_path") or []
        return _print_task_listing(listing, check_paths(include, "--include_path"))
    label = f"--config {config_path}" if config_path else "--config"
    runs = [RunConfig.from_layers(entry, flags, label) for entry in file_entries]
    return max(run_one(run) for run in runs)


def _read_run_file(path: Path) -> list[dict[str, Any]]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"--config {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--config {path}: not a YAML file (not UTF-8 text)") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"--config {path}: malformed YAML ({str(error).splitlines()[0]})") from None
    except (ValueError, RecursionError) as error:  # e.g. a date that does not exist; nesting too deep
        raise ConfigError(f"--config {path}: malformed YAML ({type(error).__name__}: {str(error)[:200]})") from None
    entries = data if isinstance(data, list) else [data]
    if not entries or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError(f"--config {path}: expected a mapping of flags, or a list of them")
    return entries


def _print_task_listing(what: str, include_paths: list[str]) -> int:
    from lmms_eval.cli.listing import task_listing
    from lmms_eval.taskdefs.index import TaskIndex

    print(task_listing(TaskIndex.build(include_paths), what))
    return EXIT_OK


def _tasks_command(argv: list[str]) -> int:
    from lmms_eval.cli.tasks_command import tasks_command

    return tasks_command(argv)


def _models_command(argv: list[str]) -> int:
    from lmms_eval.cli.listing import model_listing

    Parser(prog="lmms-eval models", description="List model backends.").parse_args(argv)
    print(model_listing())
    return EXIT_OK


def _demo_command(argv: list[str]) -> int:
    from lmms_eval.cli.demo import run_demo

    return run_demo(argv)


def _rescore_command(argv: list[str]) -> int:
    from lmms_eval.cli.maintenance import rescore_command

    return rescore_command(argv)


def _prepare_command(argv: list[str]) -> int:
    from lmms_eval.cli.maintenance import prepare_command

    return prepare_command(argv)


def _cache_command(argv: list[str]) -> int:
    from lmms_eval.cli.maintenance import cache_command

    return cache_command(argv)


def _report_command(argv: list[str]) -> int:
    from lmms_eval.cli.report_command import report_command

    return report_command(argv)


def _compare_command(argv: list[str]) -> int:
    from lmms_eval.cli.compare_command import compare_command

    return compare_command(argv)


def _power_command(argv: list[str]) -> int:
    from lmms_eval.cli.compare_command import power_command

    return power_command(argv)


SUBCOMMANDS = {
    "report": _report_command,
    "compare": _compare_command,
    "power": _power_command,
    "tasks": _tasks_command,
    "models": _models_command,
    "demo": _demo_command,
    "rescore": _rescore_command,
    "cache": _cache_command,
    "prepare": _prepare_command,
}
