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
        epilog="example:\n  lmms-eval power --effect 0.03 --alpha 0.05 --power 0.8   # prints 2181",
    )
    parser.add_argument("--effect", type=float, required=True, help="the difference of mean scores to detect, e.g. 0.03")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    parser.add_argument("--power", type=float, default=0.8, help="probability of detecting the effect (default 0.8)")
    parser.add_argument("--sd", type=float, default=0.5, help="per-sample score standard deviation of each model (default 0.5)")
    parser.add_argument("--correlation", type=float, default=0.5, help="correlation of the paired scores (default 0.5)")
    args = parser.parse_args(argv)
    _check_open_unit("--alpha", args.alpha)
    _check_open_unit("--power", args.power)
    if not (args.effect > 0 and math.isfinite(args.effect)):
        raise ConfigError(f"--effect {args.effect}: must be a positive number")
    if not (args.sd > 0 and math.isfinite(args.sd)):
        raise ConfigError(f"--sd {args.sd}: must be a positive number")
    if not -1 <= args.correlation < 1:
        raise ConfigError(f"--correlation {args.correlation}: must be in [-1, 1)")

    from lmms_eval.compare import power_sample_size

    print(power_sample_size(args.effect, args.alpha, args.power, args.sd, args.sd, args.correlation))
    return 0


def _check_open_unit(flag: str, value: float) -> None:
    if not 0 < value < 1:
        raise ConfigError(f"{flag} {value}: must be between 0 and 1")
