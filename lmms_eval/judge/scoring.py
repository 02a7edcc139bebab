"""The contract between a judged task and the judge stage.

A task whose answers need an LLM judge names a `JudgeScoring` in its YAML
(`judge_scoring: !function utils.judge_scoring`). After inference, with the evaluated
model released, the judge stage hands it every scorable sample of one filter pipeline at
once, with the task's `Judge`; it asks its questions through `judge.ask` (or
`judge.ask_escalating`), all concurrently, and returns the per-sample metric values that
the judge decides. Those values join the sample's other scores and are aggregated like
them. Prompt building and reply parsing are the benchmark's own rules and live in the
task's code; asking, storing and counting are the stage's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmms_eval.judge.runner import Judge


@dataclass(frozen=True)
class JudgedSample:
    """One answered doc as the judge stage hands it over: the filtered answer (the
    pipeline's value, a string for generate_until tasks) beside the doc and its target."""

    doc_id: int
    doc: Mapping[str, Any]
    answer: Any
    target: Any


#: Per-sample metric values by doc id; a doc left out keeps only its rule-based scores.
JudgedValues = dict[int, dict[str, Any]]


@dataclass(frozen=True)
class JudgeScoring:
    """A benchmark's judging rule. `template` is its judge prompt template: its hash is part
    of every judge answer's store key and is recorded in results, so changing the prompt
    re-asks. `temperature` and `max_tokens` are the benchmark's first ask."""

    template: str
    score: Callable[[list[JudgedSample], Judge], JudgedValues]
    temperature: float = 0.0
    max_tokens: int = 1024
