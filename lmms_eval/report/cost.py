"""Cost and throughput per task: the `requests` entry's figures and the table's footer.

Model calls and judge calls are counted apart: a judge is another model, with its own
tokens, prices and failures (its figures come from the task's judge entry).
"""

from __future__ import annotations

from typing import Any

from lmms_eval.evaluator import Evaluation, TaskRun
from lmms_eval.pricing import Pricing, listed_pricing
from lmms_eval.report.grid import Block, Grid, render_plain


def throughput_entry(evaluation: Evaluation, task_run: TaskRun) -> dict[str, Any]:
    """Figures for one task's model calls, merged into its `requests` entry."""
    answered = task_run.answered
    timing = answered.throughput
    rate = timing.requests_per_second()
    entry: dict[str, Any] = {
        "from_store": answered.from_store,
        "asked": timing.asked,
        "retries": timing.retries,
        "wall_seconds": round(timing.wall_seconds, 3),
        "requests_per_second": None if rate is None else round(rate, 3),
        "latency_p50_seconds": _rounded(timing.latency_percentile(50)),
        "latency_p95_seconds": _rounded(timing.latency_percentile(95)),
        "asked_usage": {"prompt_tokens": timing.prompt_tokens, "completion_tokens": timing.completion_tokens},
        **_cost(evaluation.pricing, timing.prompt_tokens, timing.completion_tokens),
    }
    judge = evaluation.judge_entries.get(task_run.task.name)
    if judge is not None:
        entry["judge"] = judge_calls(judge)
    return entry


def judge_calls(judge: dict[str, Any]) -> dict[str, Any]:
    """A judge entry's call figures, and their cost where the judge's model has a list price."""
    tokens = judge.get("tokens") or {}
    prompt, completion = int(tokens.get("prompt", 0)), int(tokens.get("completion", 0))
    return {
        "calls": judge.get("calls", 0),
        "from_store": judge.get("from_store", 0),
        "failures": judge.get("failures", 0),
        "retries": judge.get("retries", 0),
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        **_cost(_judge_pricing(judge), prompt, completion),
    }


def _judge_pricing(judge: dict[str, Any]) -> Pricing | None:
    from lmms_eval.models import MODELS

    backend = judge.get("backend")
    if not isinstance(backend, str) or backend not in MODELS:
        return None
    return listed_pricing(getattr(MODELS.get(backend), "provider", None), judge.get("model"))


def _cost(pricing: Pricing | None, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    if pricing is None:
        return {"cost_usd": None, "pricing": None}
    return {"cost_usd": round(pricing.cost(prompt_tokens, completion_tokens), 6), "pricing": pricing.entry()}


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)


# --- the table's footer -------------------------------------------------------------------

_FOOTER_HEADER = ("Task", "Calls", "Requests", "From store", "In tokens", "Out tokens", "Wall s", "Req/s", "p50 s", "p95 s", "Retries", "Failed", "Cost $")


def footer_rows(evaluation: Evaluation) -> list[tuple[str, ...]]:
    """One row per task for its model calls, and one for its judge calls when judged."""
    rows = []
    for name, task_run in evaluation.task_runs.items():
        entry = throughput_entry(evaluation, task_run)
        usage = task_run.answered.usage()
        rows.append((
            name, "model", str(len(task_run.answered.responses)), str(entry["from_store"]), str(usage.prompt_tokens), str(usage.completion_tokens),
            f"{entry['wall_seconds']:.2f}", _maybe(entry["requests_per_second"], "{:.1f}"), _maybe(entry["latency_p50_seconds"], "{:.3f}"),
            _maybe(entry["latency_p95_seconds"], "{:.3f}"), str(entry["retries"]), str(len(task_run.answered.failures)), _maybe(entry["cost_usd"], "{:.4f}"),
        ))
        judge = entry.get("judge")
        if judge is not None:
            rows.append((
                name, "judge", str(judge["calls"] + judge["from_store"]), str(judge["from_store"]), str(judge["usage"]["prompt_tokens"]),
                str(judge["usage"]["completion_tokens"]), "", "", "", "", str(judge["retries"]), str(judge["failures"]), _maybe(judge["cost_usd"], "{:.4f}"),
            ))
    return rows


def footer_lines(evaluation: Evaluation) -> list[str]:
    """The cost and throughput table printed under the scores, as markdown lines."""
    blocks = footer_blocks(evaluation)
    return render_plain(blocks).split("\n") if blocks else []


def footer_blocks(evaluation: Evaluation) -> list[Block]:
    """The cost and throughput table under the scores (nothing for a rescore, which asked nothing)."""
    if evaluation.source != "live" or not evaluation.task_runs:
        return []
    blocks: list[Block] = ["", Grid(_FOOTER_HEADER, tuple(footer_rows(evaluation)))]
    total = _total_cost(evaluation)
    if total is not None:
        blocks.append(f"Total cost: ${total:.4f}")
    return blocks


def _total_cost(evaluation: Evaluation) -> float | None:
    costs = []
    for task_run in evaluation.task_runs.values():
        entry = throughput_entry(evaluation, task_run)
        costs.append(entry["cost_usd"])
        if "judge" in entry:
            costs.append(entry["judge"]["cost_usd"])
    known = [cost for cost in costs if cost is not None]
    return sum(known) if known else None


def _maybe(value: Any, form: str) -> str:
    return "" if value is None else form.format(value)
