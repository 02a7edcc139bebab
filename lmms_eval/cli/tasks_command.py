"""`lmms-eval tasks [list|list_groups|list_tags|list_subtasks|check] [NAMES|all] [--include_path P]...`

`check` builds each selected task the way a run does, without loading any data: the YAML
and its includes, every `!function` (which runs the task's utils.py, so its imports are
tried), the filters, metrics and aggregations, the output type and the group members. It
prints one line per broken task, then `N ok, M broken`, and exits 2 when any is broken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lmms_eval.cli.args import TASK_LISTINGS, Parser
from lmms_eval.cli.common import EXIT_BAD_INPUT, EXIT_OK, configure_logging
from lmms_eval.errors import LmmsEvalError

CHECK = "check"
ALL = "all"


@dataclass(frozen=True)
class CheckResult:
    """One checked entry: a task, a group, or (with `all`) a file the index could not read."""

    name: str
    problem: str | None = None  # one line, beginning with a file; None when the entry is fine
    is_file: bool = False  # a file the index could not read: its problem line names it already

    def line(self) -> str:
        return str(self.problem) if self.is_file else f"{self.name}  {self.problem}"

    @property
    def ok(self) -> bool:
        return self.problem is None


def tasks_command(argv: list[str]) -> int:
    parser = Parser(
        prog="lmms-eval tasks",
        description="List tasks, groups and tags, or check tasks without loading their data. "
        "`check` builds each named task (or `all`) as a run would: YAML, includes, !function imports, "
        "filters, metrics, aggregations, output type and group members. It prints one line per broken "
        "task and `N ok, M broken`, and exits 2 if any is broken.",
    )
    parser.add_argument("what", nargs="?", default="list", choices=(*TASK_LISTINGS, CHECK), help="what to do (default list)")
    parser.add_argument("names", nargs="*", help="for check: task, group or tag names, separate or comma-separated, or `all`")
    parser.add_argument("--include_path", action="append", default=[], help="extra task folder (or YAML file); repeatable")
    parser.add_argument("--verbosity", choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper, help="log level (default WARNING; ERROR for check)")
    args = parser.parse_intermixed_args(argv)
    names = [name.strip() for word in args.names for name in word.split(",") if name.strip()]
    if args.what != CHECK:
        if names:
            parser.error(f"`tasks {args.what}` takes no names")
        configure_logging(args.verbosity or "WARNING")
        return _print_listing(args.what, args.include_path)
    if not names:
        parser.error("`tasks check` needs task, group or tag names, or `all`")
    # Task code logs while it is imported; the check's own lines are what matter here.
    configure_logging(args.verbosity or "ERROR")
    return _print_check(names, args.include_path)


def _print_listing(what: str, include_paths: list[str]) -> int:
    from lmms_eval.cli.listing import task_listing
    from lmms_eval.taskdefs.index import TaskIndex

    print(task_listing(TaskIndex.build(include_paths), what))
    return EXIT_OK


def _print_check(names: list[str], include_paths: list[str]) -> int:
    from lmms_eval.taskdefs.index import TaskIndex

    index = TaskIndex.build(include_paths, log_broken=False)  # each broken file gets its line below
    results = list(check_all(index) if names == [ALL] else check_names(index, names))
    for result in results:
        if not result.ok:
            print(result.line(), flush=True)
    broken = sum(not result.ok for result in results)
    print(f"{len(results) - broken} ok, {broken} broken")
    return EXIT_BAD_INPUT if broken else EXIT_OK


def check_all(index: Any) -> Iterator[CheckResult]:
    """Every task and group, and each file the index could not read (named by its path)."""
    for name in sorted(index.tasks):
        yield CheckResult(name, _task_problem(lambda name=name: index.task_config(name)))
    for name in sorted(index.groups):
        yield CheckResult(name, _group_problem(index, name))
    for entry in index.broken:
        yield CheckResult(str(entry.path), entry.message, is_file=True)


def check_names(index: Any, names: list[str]) -> Iterator[CheckResult]:
    """The named tasks, and every task the named groups and tags reach, each once."""
    seen: set[str] = set()
    for name in names:
        try:
            selection = index.select([name])
        except LmmsEvalError as error:
            yield CheckResult(name, _one_line(error))
            continue
        for task_name, config in selection.configs.items():
            if task_name not in seen:
                seen.add(task_name)
                yield CheckResult(task_name, _task_problem(lambda config=config: config))


def _group_problem(index: Any, name: str) -> str | None:
    """A group's members must all resolve. Its indexed tasks are checked on their own lines;
    tasks written inline in the group file (with overrides) are checked here."""
    try:
        selection = index.select([name])
    except LmmsEvalError as error:
        return _one_line(error)
    for task_name, config in selection.configs.items():
        if task_name in index.tasks and config.to_dict() == index.task_config(task_name).to_dict():
            continue  # the indexed task as it is: it has its own line
        problem = _task_problem(lambda config=config: config)
        if problem is not None:
            return f"{problem} (task '{task_name}' as the group sets it)"
    return None


def _task_problem(make_config: Any) -> str | None:
    """Build the task and its scorer as a run does before the first request; no data loads."""
    from lmms_eval.engine.scoring import Scorer
    from lmms_eval.taskdefs.task import PromptSettings, Task

    source = "?"
    try:
        config = make_config()
        source = config.source
        Scorer(Task(config, PromptSettings()))
    except LmmsEvalError as error:
        return _one_line(error, source)
    except Exception as error:  # task code that raises while the task is built is broken too
        return _one_line(error, source)
    return None


def _one_line(error: BaseException, source: str | None = None) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if getattr(error, "path", None):  # TaskConfigError: its message starts with the file
        return text
    if not isinstance(error, LmmsEvalError):
        text = f"{type(error).__name__}: {text}"
    return f"{source}: {text}" if source else text
