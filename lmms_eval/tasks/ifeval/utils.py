"""IFEval scoring: each instruction checked strictly and loosely; prompt- and instruction-level means."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from lmms_eval.tasks._builtin.ifeval.instructions import CHECKERS


def doc_to_text(doc: dict[str, Any]) -> str:
    return doc["prompt"]


def _arguments(instruction_id: str, kwargs: dict[str, Any] | None, prompt: str) -> dict[str, Any]:
    """The instruction's kwargs that are set (null and other falsy values dropped, as the
    dataset leaves every unused key null) and that its checker takes."""
    check = CHECKERS[instruction_id]
    accepted = set(inspect.signature(check).parameters) - {"response"}
    given = {key: value for key, value in (kwargs or {}).items() if value and key in accepted}
    if "prompt_to_repeat" in accepted and "prompt_to_repeat" not in given:
        given["prompt_to_repeat"] = prompt
    return given


def follows(response: str, instruction_id: str, arguments: dict[str, Any]) -> bool:
    """Strict: a non-blank response that passes the checker."""
    return bool(response.strip()) and CHECKERS[instruction_id](response, **arguments)


def loose_variants(response: str) -> list[str]:
    """The response, without its first line, its last line, or both; each also with every
    "*" removed: eight texts."""
    lines = response.split("\n")
    trimmed = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return trimmed + [text.replace("*", "") for text in trimmed]


def process_results(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    response = results[0]
    strict, loose = [], []
    for instruction_id, kwargs in zip(doc["instruction_id_list"], doc["kwargs"]):
        arguments = _arguments(instruction_id, kwargs, doc["prompt"])
        strict.append(follows(response, instruction_id, arguments))
        loose.append(any(follows(variant, instruction_id, arguments) for variant in loose_variants(response)))
    return {
        "prompt_level_strict_acc": float(all(strict)),
        "inst_level_strict_acc": strict,
        "prompt_level_loose_acc": float(all(loose)),
        "inst_level_loose_acc": loose,
    }


def instruction_mean(per_prompt: Sequence[Sequence[bool]]) -> float:
    """The share of all instructions followed, over every prompt's instructions together."""
    flat = [followed for instructions in per_prompt for followed in instructions]
    return sum(flat) / len(flat) if flat else 0.0
