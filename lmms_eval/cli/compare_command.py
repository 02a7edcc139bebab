"""`lmms-eval compare` (paired tests between two runs' samples) and `lmms-eval power`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from lmms_eval.cli.args import Parser
from lmms_eval.errors import ConfigError


def compare_command(argv: list[str]) -> int:
    parser = Parser(
        prog="lmms-eval compare",
        description="Compare two runs sample by sample: exact McNemar for binary scores, a seeded paired bootstrap otherwise.",
        epilog="examples:\n  lmms-eval compare out_a/ out_b/\n  lmms-eval compare out_b/ --baseline other/samples_mme.jsonl --json",
    )
    parser.add_argument("runs", nargs="+", type=Path, help="RUN_A RUN_B (results files or output folders), or one RUN with --baseline")
    parser.add_argument("--baseline", type=Path, help="a samples JSONL file from elsewhere, taken as run A")
    parser.add_argument("--tasks", help="comma-separated tasks to compare (default: every task both runs have)")
    parser.add_argument("--metric", help="metric,filter to compare (default: the first in each task's samples)")
    parser.add_argument("--seed", type=int, default=1234, help="bootstrap seed (default 1234)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    from lmms_eval.compare import compare_task, format_comparison
    from lmms_eval.report.html_build import run_from_files

    samples_a, samples_b = _two_sample_sets(args, run_from_files)
    wanted = args.tasks.split(",") if args.tasks else [task for task in samples_b if task in samples_a]
    missing = [task for task in wanted if task not in samples_a or task not in samples_b]
    if missing:
        raise ConfigError(f"--tasks: {', '.join(missing)} not in both runs' samples (they have: {', '.join(sorted(set(samples_a) & set(samples_b))) or 'none in common'})")
    results = [result for task in wanted if (result := compare_task(task, samples_a[task], samples_b[task], args.metric, args.seed))]
    if args.json:
        print(json.dumps([_finite(result.to_dict()) for result in results], indent=2, default=str))
    else:
        print("\n".join(format_comparison(result) for result in results) or "(no scored task in common)")
    return 0


def _two_sample_sets(args: Any, run_from_files: Any) -> tuple[dict[str, list], dict[str, list]]:
    if args.baseline is not None:
        if len(args.runs) != 1:
            raise ConfigError("--baseline: give one RUN besides the baseline file")
        return _read_samples_file(args.baseline), run_from_files(args.runs[0]).samples
    if len(args.runs) != 2:
        raise ConfigError(f"compare: expected RUN_A RUN_B, got {len(args.runs)} paths")
    return run_from_files(args.runs[0]).samples, run_from_files(args.runs[1]).samples


def _read_samples_file(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"--baseline {path}: cannot read ({error})") from None
    samples: dict[str, list[dict[str, Any]]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"--baseline {path}:{number}: not a JSON line") from None
        if not isinstance(row, dict) or "doc_id" not in row or "task" not in row:
            raise ConfigError(f"--baseline {path}:{number}: a samples row needs 'task' and 'doc_id'")
        samples.setdefault(str(row["task"]), []).append(row)
    return samples


def _finite(value: Any) -> Any:
    """JSON has no NaN: a task with no comparable pair gets nulls."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def power_command(argv: list[str]) -> int:
    parser = Parser(
        prog="lmms-eval power",
        description="How many paired samples a comparison needs to detect a difference (two-sided paired z-test).",
        epilog="examples:\n  lmms-eval power --effect 0.03 --alpha 0.05 --power 0.8   # prints 2181\n"
               "  lmms-eval power --effect 0.03 --tasks mme,pope --results out_a/ out_b/",
    )
    parser.add_argument("--effect", type=float, required=True, help="the difference of mean scores to detect, e.g. 0.03")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    parser.add_argument("--power", type=float, default=0.8, help="probability of detecting the effect (default 0.8)")
    parser.add_argument("--sd", type=float, help=f"per-sample score standard deviation of each model (default: observed in --results, else {DEFAULT_SD})")
    parser.add_argument("--correlation", type=float, help=f"correlation of the paired scores (default: observed with two --results, else {DEFAULT_CORRELATION})")
    parser.add_argument("--tasks", help="comma-separated tasks: one line per task (its size, needs and detectable effect)")
    parser.add_argument("--results", nargs="+", type=Path, default=[], metavar="RUN",
                        help="one or two runs (results files or output folders) giving each task's size, score spread and, with two, the pair correlation")
    parser.add_argument("--json", action="store_true", help="with --tasks: print JSON")
    args = parser.parse_args(argv)
    _check_power_args(args)

    from lmms_eval.compare import power_sample_size

    if not args.tasks:
        sd = DEFAULT_SD if args.sd is None else args.sd
        correlation = DEFAULT_CORRELATION if args.correlation is None else args.correlation
        print(power_sample_size(args.effect, args.alpha, args.power, sd, sd, correlation))
        return 0
    plans = _task_power_plans(args)
    if args.json:
        print(json.dumps([plan.to_dict() for plan in plans], indent=2))
    else:
        from lmms_eval.compare import format_power_plan

        print("\n".join(format_power_plan(plan) for plan in plans))
    return 0


DEFAULT_SD = 0.5  # the most a 0/1 score can spread
DEFAULT_CORRELATION = 0.5


def _check_power_args(args: Any) -> None:
    _check_open_unit("--alpha", args.alpha)
    _check_open_unit("--power", args.power)
    if not (args.effect > 0 and math.isfinite(args.effect)):
        raise ConfigError(f"--effect {args.effect}: must be a positive number")
    if args.sd is not None and not (args.sd > 0 and math.isfinite(args.sd)):
        raise ConfigError(f"--sd {args.sd}: must be a positive number")
    if args.correlation is not None and not -1 <= args.correlation < 1:
        raise ConfigError(f"--correlation {args.correlation}: must be in [-1, 1)")
    if len(args.results) > 2:
        raise ConfigError(f"--results: give one or two runs, got {len(args.results)}")
    if args.results and not args.tasks:
        raise ConfigError("--results: needs --tasks (which tasks to size)")


def _task_power_plans(args: Any) -> list:
    """Per task: explicit flags win, then what the runs observed, then the defaults."""
    from lmms_eval.compare import observed_correlation, observed_sd, power_plan
    from lmms_eval.report.html_build import run_from_files

    runs = [run_from_files(path) for path in args.results]
    tasks = [task for task in args.tasks.split(",") if task]
    for run, path in zip(runs, args.results):
        missing = [task for task in tasks if task not in run.results.get("results", {})]
        if missing:
            raise ConfigError(f"--results {path}: no task {', '.join(missing)} in it (it has: {', '.join(run.results.get('results', {})) or 'none'})")
    plans = []
    for task in tasks:
        rows = [run.samples.get(task, []) for run in runs]
        sds = [observed_sd(task_rows) for task_rows in rows] + [None, None]
        sd_a, source_a = _pick(args.sd, sds[0], DEFAULT_SD)
        sd_b, source_b = _pick(args.sd, sds[1] if len(runs) == 2 else sds[0], DEFAULT_SD)
        observed = observed_correlation(rows[0], rows[1]) if len(runs) == 2 else None
        correlation, source_c = _pick(args.correlation, observed, DEFAULT_CORRELATION)
        size = _task_size(runs[0].results, task) if runs else None
        plans.append(power_plan(task, args.effect, args.alpha, args.power, sd_a, sd_b, correlation,
                                {"sd_a": source_a, "sd_b": source_b, "correlation": source_c}, size))
    return plans


def _pick(given: float | None, observed: float | None, default: float) -> tuple[float, str]:
    if given is not None:
        return given, "given"
    if observed is not None:
        return observed, "observed"
    return default, "default"


def _task_size(results: dict[str, Any], task: str) -> int | None:
    """The task's full size (before --limit): what a comparison on it can use."""
    counts = results.get("n-samples", {}).get(task) or {}
    size = counts.get("original", counts.get("effective"))
    return int(size) if isinstance(size, (int, float)) else None


def _check_open_unit(flag: str, value: float) -> None:
    if not 0 < value < 1:
        raise ConfigError(f"{flag} {value}: must be between 0 and 1")
