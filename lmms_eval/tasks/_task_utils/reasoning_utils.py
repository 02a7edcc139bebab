"""Scoring for lmms-eval's "reasoning" task variants (`<analysis>`/`<think>` then `<answer>`).

Task files build their `doc_to_messages` and `process_results` from the two factories at
the bottom, or call `compute_score` themselves. The rules are lmms-eval's (0.7.3):

- the answer is the text of the first `<answer>...</answer>`, else the last balanced
  `\\boxed{...}`, else a number that ends a line (the last such line);
- the format score is 1.0 for `<think>`/`<analysis>` then `<answer>` filling the whole
  text, or a non-empty `\\boxed{}`; 0.8 for a long worked answer that yields an answer;
  else 0.0;
- accuracy, in order, stopping at the first success: option letters compared when the
  ground truth reads as an option letter (by the older, looser letter rule below),
  else 90 % containment or equality; symbolic equivalence with `math_verify`; an LLM
  judge when `USE_LLM_JUDGE` is exactly "True";
- score = 0.9 * accuracy + 0.1 * format.

Two deliberate differences from lmms-eval, neither of which changes a score:
- no judge client is created at import. The settings are read from the environment at
  import (as lmms-eval does), and the OpenAI client is built on the first judge call, so
  importing works without the `openai` package or a key; a judge call without `openai`
  installed fails with a clear error;
- `math_verify` is optional. When it is not installed the symbolic step is skipped (with
  one warning), where lmms-eval would fail to import the module at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from loguru import logger

from lmms_eval.errors import ModelError
from lmms_eval.tasks._task_utils import names_from_users_copy

# Read once at import, as lmms-eval does; the judge is only used when USE_LLM_JUDGE == "True".
API_KEY = os.getenv("JUDGE_API_KEY", "YOUR_API_KEY")
BASE_URL = os.getenv("JUDGE_BASE_URL", "https://api.openai.com/v1")
MODEL_NAME = os.getenv("JUDGE_MODEL_NAME", "gpt-4o-mini")
USE_LLM_JUDGE = os.getenv("USE_LLM_JUDGE", "False")

FORMAT_WEIGHT = 0.1
RELAXED_MATCH_PORTION = 0.9
JUDGE_MAX_TOKENS = 5
# The raw solution goes to the judge a second time only when it is this short.
SECOND_JUDGE_MAX_CHARS = 500

DEFAULT_REASONING_SYSTEM_PROMPT = (
    "You are a helpful assistant. When user asks a question, your response must include two parts: "
    "first, reasoning process enclosed in <analysis>...</analysis> tags, then final answer enclosed in "
    "<answer>...</answer> tags.Please provide a clear, concise response within <answer> </answer> tags "
    "that directly addresses to question."
)

_JUDGE_RULES = """# Evaluation Rules
- For multiple-choice questions: Score 1 if the predicted answer matches the ground truth answer, it can be directly in option letters or the content of the options.
- For open-ended questions:
  * Score 1 if the prediction matches the answer semantically, it can be in different format.
  * Score 0 for partially correct answers or answers with extra incorrect information, even if the reasoning process is correct.
- Ignore minor differences in formatting, capitalization, or spacing since the model may explain in a different way.
- Treat numerical answers as correct if they match within reasonable precision
- For questions requiring units, both value and unit must be correct

# Strict Output format
1 or 0"""
_JUDGE_INTRO = "You are a strict evaluator assessing answer correctness. You must output 1 for fully correct answers and 0 for any other case."
JUDGE_PROMPT = (
    _JUDGE_INTRO
    + "\n\n# Input\nGround Truth Answer:\n```\n{answer}\n```\nModel Prediction:\n```\n{prediction}\n```\n\n"
    + _JUDGE_RULES
)
JUDGE_PROMPT_WITH_QUESTION = (
    "\n"
    + _JUDGE_INTRO
    + " You will receive the question, the ground truth answer, and the model prediction.\n\n# Input\nQuestion:\n```\n{question}\n```\n\n"
    + "Ground Truth Answer:\n```\n{answer}\n```\nModel Prediction:\n```\n{prediction}\n```\n\n"
    + _JUDGE_RULES
    + "\n"
)

# --- answer extraction and format -------------------------------------------------------

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_NUMBER_ENDING_LINE = re.compile(r"\b(\d+(?:\.\d+)?)\b\s*\.?\s*$")
_WHOLE_TEXT_FORMATS = (
    re.compile(r"<think>.*</think>.*<answer>.*</answer>", re.DOTALL),
    re.compile(r"<analysis>.*</analysis>.*<answer>.*</answer>", re.DOTALL),
)
_MATH_CHARACTER = re.compile(r"[=+\-*/()\[\]\\]")
_WORKED_ANSWER_MIN_CHARS = 50
_BOXED = "\\boxed{"


def extract_boxed_answer(predict_str: str) -> str:
    """The content of the last `\\boxed{...}` whose braces balance ("" when there is none)."""
    found = ""
    start = predict_str.find(_BOXED)
    while start != -1:
        content_start = start + len(_BOXED)
        depth = 1
        for position in range(content_start, len(predict_str)):
            depth += {"{": 1, "}": -1}.get(predict_str[position], 0)
            if depth == 0:
                found = predict_str[content_start:position]
                break
        start = predict_str.find(_BOXED, start + 1)
    return found


def extract_anwser_tag(predict_str: str) -> str:  # sic: lmms-eval's spelling
    """The first `<answer>` content (not stripped), else the last boxed answer, else a
    number that ends a line, looking from the last line up; else ""."""
    tagged = _ANSWER_TAG.search(predict_str)
    if tagged:
        return tagged.group(1)
    boxed = extract_boxed_answer(predict_str)
    if boxed:
        return boxed
    for line in reversed(predict_str.strip().split("\n")):
        if line.strip():
            number = _NUMBER_ENDING_LINE.search(line)
            if number:
                return number.group(1)
    return ""


def format_reward(predict_str: str) -> float:
    if any(pattern.fullmatch(predict_str) for pattern in _WHOLE_TEXT_FORMATS):
        return 1.0
    if extract_boxed_answer(predict_str):
        return 1.0
    worked = len(predict_str.strip()) > _WORKED_ANSWER_MIN_CHARS and _MATH_CHARACTER.search(predict_str)
    if worked and extract_anwser_tag(predict_str):
        return 0.8
    return 0.0


def simple_parse(predict_str: str) -> str:
    """One trailing period dropped, then stripped."""
    return (predict_str[:-1] if predict_str.endswith(".") else predict_str).strip()


# --- the older option-letter rule ---------------------------------------------------------
# lmms-eval's reasoning scorer reads letters with an earlier, looser rule than
# `extract_mcq_answer` (this project's `extract_choice_letter`): more marker formats,
# another phrase list searched from the phrase's *start*, "start"/"end" without the
# not-a-word check (so "Dog" reads as D), and ties going to the *earlier* position.
# Scores of these tasks depend on it, so it is kept as it is.

OPTION_LETTERS = ("A", "B", "C", "D", "E", "F", "G", "H")
_EDGE_CHARACTERS = (",", ".", "!", "?", ";", ":", "'", '"')
_MARKER_FORMATS = (  # (how L is written, priority)
    ("({})", 6),
    ("{}.", 5),
    ("{}:", 4),
    ("{})", 3),
    ("{} ", 2),
    ("{}-", 1),
    ("{}_", 1),
    ("{}=", 1),
)
_START, _END, _NUMBERED, _PHRASE, _FALLBACK = 10, 9, 8, 7, 0
_OLDER_ANSWER_PHRASES = (
    "the answer is", "answer is", "the correct answer is", "correct answer is", "the answer", "answer",
    "correct answer", "the correct answer", "the best answer is", "best answer is", "the best answer",
    "best answer", "the option is", "option is", "the correct option is", "correct option is",
    "the choice is", "choice is", "the correct choice is", "correct choice is", "i choose", "i select",
    "i pick", "my answer is", "my choice is",
)  # fmt: skip


def loose_option_letter(text: str) -> str:
    """The option letter (A-H) by the older rule, or ""."""
    if not text or not text.strip():
        return ""
    trimmed = text.strip()
    for character in _EDGE_CHARACTERS:
        trimmed = trimmed.strip(character)
    padded = f" {trimmed} "
    found: list[tuple[int, int, str]] = []  # (priority, position, letter)
    for template, priority in _MARKER_FORMATS:
        for letter in OPTION_LETTERS:
            if template.format(letter) in padded:
                found.append((priority, padded.rfind(template.format(letter)), letter))
    lowered = padded.lower()
    for phrase in _OLDER_ANSWER_PHRASES:
        start = lowered.find(phrase)
        for letter in OPTION_LETTERS if start != -1 else ():
            if padded.find(letter, start) != -1:
                found.append((_PHRASE, padded.find(letter, start), letter))
    core = padded.strip()
    for number, letter in enumerate(OPTION_LETTERS, 1):
        if core.startswith(letter):
            found.append((_START, 0, letter))
        if core.endswith(letter):
            found.append((_END, len(padded) - 1, letter))
        if f"{number}. {letter}" in padded:
            found.append((_NUMBERED, padded.rfind(f"{number}. {letter}"), letter))
    if not found:
        found = [(_FALLBACK, padded.rfind(letter), letter) for letter in OPTION_LETTERS if letter in padded]
    if not found:
        return ""
    # Highest priority, then earliest position; min() keeps the first of equal keys.
    return min(found, key=lambda candidate: (-candidate[0], candidate[1]))[2]


# --- accuracy -----------------------------------------------------------------------------


def relaxed_match(prediction: str, ground_truth: str) -> float:
    """Option letters when the ground truth reads as one, else containment covering at
    least 90 % of the longer string, else equality after stripping."""
    gold_letter = loose_option_letter(ground_truth)
    if gold_letter:
        return 1.0 if loose_option_letter(prediction).lower().strip() == gold_letter.lower().strip() else 0.0
    if prediction in ground_truth and len(prediction) >= RELAXED_MATCH_PORTION * len(ground_truth):
        return 1.0
    if ground_truth in prediction and len(ground_truth) >= RELAXED_MATCH_PORTION * len(prediction):
        return 1.0
    return 1.0 if prediction.strip() == ground_truth.strip() else 0.0


def symbolic_match(prediction: str, ground_truth: str) -> int | float:
    """1 when `math_verify` finds the two equivalent; 0 when not, or when it fails.

    `math_verify` is optional here: without it this step is skipped (0.0), with one
    warning, instead of the module failing to import as in lmms-eval.
    """
    verifier = _math_verify()
    if verifier is None:
        return 0.0
    parse, verify = verifier
    try:
        return int(verify(parse(ground_truth), parse(prediction)))
    except Exception:  # math_verify raises on text it cannot read: not equivalent
        return 0.0


@cache
def _math_verify() -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    try:
        from math_verify import parse, verify
    except ImportError:
        logger.warning("math_verify is not installed: compute_score skips the symbolic equivalence step (pip install math-verify)")
        return None
    return parse, verify


def judge_score(prediction: str, ground_truth: str, extra_info: dict[str, Any] | None) -> int:
    """The judge model's 0/1 verdict; a reply that is not an integer counts 0. A failed
    request raises (it is not scored as a wrong answer)."""
    if extra_info is not None and "question" in extra_info:
        prompt = JUDGE_PROMPT_WITH_QUESTION.format(question=extra_info["question"], answer=ground_truth, prediction=prediction)
    else:
        prompt = JUDGE_PROMPT.format(answer=ground_truth, prediction=prediction)
    response = _judge_client(API_KEY, BASE_URL).chat.completions.create(
        model=MODEL_NAME,
        messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        max_tokens=JUDGE_MAX_TOKENS,
    )
    try:
        return int(response.choices[0].message.content)
    except (TypeError, ValueError):
        return 0


@cache
def _judge_client(api_key: str, base_url: str) -> Any:
    """Built on the first judge call, not at import."""
    try:
        from openai import OpenAI
    except ImportError:
        raise ModelError("USE_LLM_JUDGE=True: the LLM judge of reasoning tasks needs the openai package (pip install openai)") from None
    return OpenAI(api_key=api_key, base_url=base_url)


def compute_score(data_source: Any, solution_str: str, ground_truth: str, extra_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """`{"score", "acc_score", "format_reward_score", "predict_str", "ground_truth"}` for
    one solution; `data_source` is not used."""
    format_score = format_reward(solution_str)
    predicted = simple_parse(extract_anwser_tag(solution_str).strip())
    gold = simple_parse(ground_truth)
    accuracy: int | float = relaxed_match(predicted, gold)
    if accuracy == 0.0:
        accuracy = symbolic_match(predicted, gold)
    use_judge = USE_LLM_JUDGE == "True"
    if accuracy == 0.0 and use_judge:
        accuracy = judge_score(predicted, ground_truth, extra_info)
    if accuracy == 0.0 and use_judge and format_score == 0.0 and len(solution_str) < SECOND_JUDGE_MAX_CHARS:
        accuracy = judge_score(solution_str, ground_truth, extra_info)
    return {
        "score": (1.0 - FORMAT_WEIGHT) * accuracy + FORMAT_WEIGHT * format_score,
        "acc_score": accuracy,
        "format_reward_score": format_score,
        "predict_str": predicted,
        "ground_truth": gold,
    }


# --- task function factories --------------------------------------------------------------


def make_reasoning_doc_to_messages(
    doc_to_visual_fn: Callable[..., list[Any]], doc_to_text_fn: Callable[..., str], system_prompt: str | None = None
) -> Callable[..., list[dict[str, Any]]]:
    """A `doc_to_messages`: a system turn with the reasoning instruction, then a user turn
    with one image part per visual (the visual itself as `url`) and the question text."""
    prompt = system_prompt or DEFAULT_REASONING_SYSTEM_PROMPT

    def doc_to_messages(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        question = doc_to_text_fn(doc, lmms_eval_specific_kwargs)
        content: list[dict[str, Any]] = [{"type": "image", "url": visual} for visual in doc_to_visual_fn(doc)]
        content.append({"type": "text", "text": question.strip()})
        return [{"role": "system", "content": [{"type": "text", "text": prompt}]}, {"role": "user", "content": content}]

    return doc_to_messages


def make_reasoning_process_results(
    data_source: Any,
    doc_to_text_fn: Callable[..., str],
    gt_key: str = "answer",
    metrics_prefix: str = "",
    extra_info_fn: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[dict[str, Any], list[str]], dict[str, float]]:
    """A `process_results`: `compute_score` on each response, the mean accuracy and format
    score as `<prefix>acc_score` and `<prefix>format_score`."""

    def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
        extra_info = {"question": doc_to_text_fn(doc, None)}
        ground_truth = str(doc[gt_key])
        if extra_info_fn:
            extra_info.update(extra_info_fn(doc))
        scores = [compute_score(data_source, result.strip(), ground_truth, extra_info) for result in results]
        count = len(scores) or 1
        return {
            f"{metrics_prefix}acc_score": sum(score["acc_score"] for score in scores) / count,
            f"{metrics_prefix}format_score": sum(score["format_reward_score"] for score in scores) / count,
        }

    return process_results


__getattr__ = names_from_users_copy(__name__)
