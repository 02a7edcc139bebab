"""CharXiv (validation): chart understanding on arXiv figures, reasoning (one question per
chart) and descriptive (four template questions per chart), both graded by an LLM judge
with the official grading prompts (see README.md)."""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from typing import Any

from lmms_eval.judge.runner import JudgeQuestion
from lmms_eval.judge.scoring import JudgedSample, JudgedValues, JudgeScoring
from lmms_eval.tasks._builtin.charxiv import prompts

__all__ = [
    "reasoning_doc_to_messages",
    "descriptive_doc_to_messages",
    "reasoning_question",
    "descriptive_question",
    "explode_descriptive",
    "process_results",
    "reasoning_prompt",
    "descriptive_prompt",
    "read_json",
    "score_reasoning",
    "score_descriptive",
    "reasoning_scoring",
    "descriptive_scoring",
    "accuracy_breakdown",
    "grading_counts",
]

#: The official grader's failure value (a call or a reply that never validates).
FAILED = -1
#: Descriptive questions graded per judge call, as the official script batches them.
PER_QUERY = 5
#: Reasoning answer types (`reasoning_q_source`), as the official statistics name them.
ANSWER_TYPES = {1: "text-in-chart", 2: "text-in-general", 3: "number-in-chart", 4: "number-in-general"}


# --- prompts for the evaluated model ----------------------------------------------------------


def _number_instruction(answer: str) -> str:
    parts = answer.split(".")
    if len(parts) == 1:
        return "* Your final answer must be an exact integer."
    return f"* Your final answer must be a number with {len(parts[1])} decimal places."


def reasoning_question(doc: dict[str, Any]) -> str:
    category = int(doc["reasoning_q_source"])
    if category == 4:
        return prompts.REASONING_RESP_INST[4].format(doc["reasoning_q"], _number_instruction(str(doc["reasoning_a"])))
    return prompts.REASONING_RESP_INST[category].format(doc["reasoning_q"])


def _subplot_loc(value: Any) -> Any:
    """A list [row, column] or a description; the dataset may store the list as its text."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return list(ast.literal_eval(value))
        except (ValueError, SyntaxError):
            return value
    return list(value) if isinstance(value, (list, tuple)) else value


def descriptive_question(template: int, subplot_loc: Any) -> str:
    if template in (18, 19):  # the layout questions name no subplot
        return prompts.DESCRIPTIVE_RESP_INST[template]
    location = _subplot_loc(subplot_loc)
    if isinstance(location, list):
        prefix = "For the current plot, " if location[0] == 0 else f"For the subplot at row {location[0]} and column {location[1]}, "
    elif isinstance(location, str):
        prefix = f"For {location}, "
    else:
        raise ValueError(f"CharXiv: subplot_loc {subplot_loc!r} is neither a [row, column] list nor a description")
    return prompts.DESCRIPTIVE_RESP_INST[template].format(prefix)


def _messages(doc: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """The image first, then the question text, stripped (lmms-eval's message layout)."""
    return [{"role": "user", "content": [{"type": "image", "url": doc["image"].convert("RGB")}, {"type": "text", "text": text.strip()}]}]


def reasoning_doc_to_messages(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return _messages(doc, reasoning_question(doc))


def descriptive_doc_to_messages(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return _messages(doc, descriptive_question(int(doc["descriptive_template"]), doc.get("subplot_loc")))


def _explode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {key: [] for key in batch}
    out.update(descriptive_template=[], descriptive_answer=[], descriptive_index=[])
    for row in range(len(batch["figure_path"])):
        for index in range(4):
            for key in batch:
                out[key].append(batch[key][row])
            out["descriptive_template"].append(int(batch[f"descriptive_q{index + 1}"][row]))
            out["descriptive_answer"].append(str(batch[f"descriptive_a{index + 1}"][row]))
            out["descriptive_index"].append(index)
    return out


def explode_descriptive(dataset: Any) -> Any:
    """process_docs: each chart's four descriptive questions as consecutive docs."""
    return dataset.map(_explode, batched=True, batch_size=64)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """Nothing before the judge stage: grading is the judge's."""
    return {}


# --- grading ---------------------------------------------------------------------------------


def _text(answer: Any) -> str:
    value = answer[0] if isinstance(answer, list) else answer
    return "" if value is None else str(value)


def read_json(reply: str) -> dict[str, Any] | None:
    """The JSON object of a reply: the whole reply, else its outermost {...} (a judge asked
    without a JSON response format may wrap it in a code fence). None when it is not one."""
    for text in (reply, reply[reply.find("{") : reply.rfind("}") + 1] if "{" in reply else ""):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def reasoning_prompt(doc: dict[str, Any], response: str) -> str:
    rules = prompts.REASONING_GRADING_INST[int(doc["reasoning_q_source"])]
    filled = rules.replace("<|question|>", doc["reasoning_q"]).replace("<|ground_truth|>", str(doc["reasoning_a"])).replace("<|response|>", response)
    return prompts.REASONING_GRADING_PREFIX + filled


def _reasoning_grade(reply: Any) -> tuple[int, Any]:
    """(score, extracted answer). The score must be 0 or 1; anything else is FAILED."""
    if not reply.ok:
        return FAILED, None
    content = read_json(reply.text or "")
    if content is None or "score" not in content:
        return FAILED, None
    extracted = content.get("extracted_answer", content.get("extract_answer"))
    return (content["score"] if content["score"] in (0, 1) else FAILED), extracted


def _record(score: int, extracted: Any, **fields: Any) -> dict[str, Any]:
    return {"score": score, "extracted_answer": extracted, "failed": score == FAILED, **fields}


def _values(metric: str, record: dict[str, Any]) -> dict[str, Any]:
    # The official statistics count a score that is not 0 or 1 as 0.
    return {metric: 100.0 if record["score"] == 1 else 0.0, f"{metric}_breakdown": record, "charxiv_grading": record}


def score_reasoning(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    replies = judge.ask([JudgeQuestion(s.doc_id, reasoning_prompt(s.doc, _text(s.answer))) for s in samples])
    values: JudgedValues = {}
    for sample in samples:
        score, extracted = _reasoning_grade(replies[(sample.doc_id, 0)])
        group = ANSWER_TYPES.get(int(sample.doc["reasoning_q_source"]), "unknown")
        values[sample.doc_id] = _values("charxiv_reasoning_acc", _record(score, extracted, group=f"answer_type/{group}"))
    return values


def descriptive_prompt(template: int, batch: list[tuple[str, str]]) -> str:
    """One grading query for up to five (response, ground truth) pairs of one template."""
    keys = [name for i in range(1, len(batch) + 1) for name in (f"extract_answer_T{i}", f"score_T{i}")]
    prefix = (
        prompts.DESCRIPTIVE_GRADING_PREFIX.replace("<|NUM_TRIPLETS|>", str(len(batch)))
        .replace("<|OVERARCHING_QUESTION|>", prompts.DESCRIPTIVE_GRADING_QMAP[template])
        .replace("<|JSON_KEYS|>", str(keys))
    )
    pairs = "".join(f"T{i}:\nResponse {i}: {response}\nGround Truth {i}: {answer}\n\n" for i, (response, answer) in enumerate(batch, start=1))
    return prefix + prompts.DESCRIPTIVE_GRADING_ICL[prompts.RUBRIC_OF_TEMPLATE[template]] + pairs


def _batches(samples: list[JudgedSample]) -> list[tuple[int, list[JudgedSample]]]:
    """Per template id, in doc order (chart by chart, question by question), five at a time."""
    by_template: dict[int, list[JudgedSample]] = defaultdict(list)
    for sample in sorted(samples, key=lambda s: s.doc_id):
        by_template[int(sample.doc["descriptive_template"])].append(sample)
    return [(t, members[i : i + PER_QUERY]) for t in sorted(by_template) for members in [by_template[t]] for i in range(0, len(members), PER_QUERY)]


def _batch_grades(reply: Any, size: int) -> list[tuple[int, Any]]:
    """Every pair's (score, extracted answer); the whole batch is FAILED unless every key is
    there and every score is 0 or 1 (the official check)."""
    content = read_json(reply.text or "") if reply.ok else None
    keys_ok = content is not None and all(f"extract_answer_T{i}" in content and content.get(f"score_T{i}") in (0, 1) for i in range(1, size + 1))
    if not keys_ok:
        return [(FAILED, None)] * size
    return [(content[f"score_T{i}"], content[f"extract_answer_T{i}"]) for i in range(1, size + 1)]


def score_descriptive(samples: list[JudgedSample], judge: Any) -> JudgedValues:
    batches = _batches(samples)
    questions = [JudgeQuestion(members[0].doc_id, descriptive_prompt(t, [(_text(m.answer), str(m.doc["descriptive_answer"])) for m in members])) for t, members in batches]
    replies = judge.ask(questions)
    values: JudgedValues = {}
    for template, members in batches:
        for member, (score, extracted) in zip(members, _batch_grades(replies[(members[0].doc_id, 0)], len(members))):
            values[member.doc_id] = _values("charxiv_descriptive_acc", _record(score, extracted, group=f"template/{template}"))
    return values


# The official grader: temperature 0, 256 tokens doubled up to 1024 on a cut-off reply; here
# 1024 from the first ask, so a long JSON reply is not cut (README).
_TEMPLATE_R = prompts.REASONING_GRADING_PREFIX + "".join(prompts.REASONING_GRADING_INST[i] for i in (1, 2, 3))
_TEMPLATE_D = prompts.DESCRIPTIVE_GRADING_PREFIX + "".join(prompts.DESCRIPTIVE_GRADING_ICL.values())
reasoning_scoring = JudgeScoring(template=_TEMPLATE_R, score=score_reasoning, temperature=0.0, max_tokens=1024)
descriptive_scoring = JudgeScoring(template=_TEMPLATE_D, score=score_descriptive, temperature=0.0, max_tokens=1024)


def accuracy_breakdown(items: list[dict[str, Any]]) -> dict[str, float]:
    """Percent correct per answer type (reasoning) or per template id (descriptive)."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        groups[item["group"]].append(item["score"] == 1)
    return {name: round(100.0 * sum(hits) / len(hits), 2) for name, hits in sorted(groups.items())}


def grading_counts(items: list[dict[str, Any]]) -> dict[str, int]:
    """Grades of 1 and 0, and FAILED ones (-1: no valid reply; scored 0)."""
    return {"score_1": sum(i["score"] == 1 for i in items), "score_0": sum(i["score"] == 0 for i in items), "failed": sum(i["failed"] for i in items)}
