"""A task folder written the way lmms-eval's library writes them: its utils.py imports loguru
and every covered lmms-eval helper path at module level, and the folder is loaded through
the project's `!function` machinery and run end to end through the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from helpers import write, write_jsonl

from lmms_eval.cli.main import main
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.testing.server import OracleServer

UTILS_PY = r'''
import json
import re

from loguru import logger as eval_logger

from lmms_eval import utils as lmms_utils
from lmms_eval.api.metrics import anls, levenshtein_distance
from lmms_eval.api.reasoning import strip_reasoning_tags
from lmms_eval.filters import Filter
from lmms_eval.filters.extraction import ExtendedRegexFilter, RegexFilter
from lmms_eval.filters.transformation import MapFilter
from lmms_eval.tasks._task_utils import file_utils
from lmms_eval.tasks._task_utils.default_template_yaml import load_default_template_yaml
from lmms_eval.tasks._task_utils.file_utils import generate_submission_file
from lmms_eval.tasks._task_utils.mcq_extract import extract_mcq_answer
from lmms_eval.tasks._task_utils.media_resolver import resolve_media_reference
from lmms_eval.tasks._task_utils.mmmu_mcq_utils import get_multi_choice_info, parse_mmmu_multi_choice_response
from lmms_eval.tasks._task_utils.point_format import parse_point2d
from lmms_eval.tasks._task_utils.reasoning_utils import (
    compute_score,
    extract_anwser_tag,
    format_reward,
    make_reasoning_doc_to_messages,
    make_reasoning_process_results,
)
from lmms_eval.tasks._task_utils.vqa_eval_metric import EvalAIAnswerProcessor
from lmms_eval.utils import eval_logger as lmms_eval_logger
from lmms_eval.utils import resolve_cache_dir, sanitize_model_name

# As lmms-eval task files do: read the folder's template at import, without its !function keys.
config = load_default_template_yaml(__file__)
POST_PROMPT = config["lmms_eval_specific_kwargs"]["default"]["post_prompt"]
eval_logger.debug("loaded {} with post prompt {!r}", __name__, POST_PROMPT)


def doc_to_visual(doc):
    return []


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"{chr(65 + i)}. {choice}" for i, choice in enumerate(doc["choices"]))
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}{kwargs.get('post_prompt', '')}"


def reasoning_doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return "Reason first: " + doc_to_text(doc, lmms_eval_specific_kwargs)


reasoning_doc_to_messages = make_reasoning_doc_to_messages(doc_to_visual, reasoning_doc_to_text)
reasoning_process_results = make_reasoning_process_results("compat", reasoning_doc_to_text)


class MultiChoiceRegexFilter(ExtendedRegexFilter):
    """The library's pattern: the task regex, then a choice's text, one string per request."""

    def apply(self, resps, docs):
        filtered_resps = []
        for r, doc in zip(resps, docs):
            choice_to_alpha = {self.filter_ignores(c.strip()): f"({chr(65 + i)})" for i, c in enumerate(doc["choices"])}
            fallback_regex = re.compile("|".join(re.escape(text) for text in choice_to_alpha))
            filtered = []
            for resp in r:
                match = self.find_match(self.regex, resp)
                if not match:
                    match = self.find_match(fallback_regex, self.filter_ignores(resp), choice_to_alpha)
                filtered.append(match or self.fallback)
            filtered_resps.append(filtered[0])
        return filtered_resps


class OrdinalsToLetters(MapFilter):
    """The library's pattern: a MapFilter subclass mapping words, with its own apply."""

    def __init__(self, **kwargs):
        super().__init__(mapping_dict={"first": "A", "second": "B", "third": "C", "fourth": "D"}, default_value=None)

    def apply(self, resps, docs):
        return [[" ".join(self.mapping_dict.get(word, word) for word in resp.split()) for resp in r] for r in resps]


def process_results(doc, results):
    letter = extract_mcq_answer(results[0])
    return {"acc": float(letter == doc["answer"]), "submission": {"id": doc["id"], "pred": letter}}


def write_submission(results, args=None):
    path = generate_submission_file("compat_mcq.json", args)
    with open(path, "w") as handle:
        json.dump(results, handle)
    eval_logger.info("Submission written to {}", path)
    return len(results)
'''

TEMPLATE = r"""
dataset_path: json
dataset_kwargs:
  data_files:
    test: data/test.jsonl
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: answer
generation_kwargs:
  max_new_tokens: 64
lmms_eval_specific_kwargs:
  default:
    pre_prompt: ""
    post_prompt: "\nAnswer with the option's letter."
    note: "dropped by load_default_template_yaml"  # any line naming !function is
metadata:
  version: 0.1
"""

MCQ_YAML = r"""
include: _default_template_yaml
task: compat_mcq
process_results: !function utils.process_results
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
filter_list:
  - name: letter
    filter:
      - function: !function utils.MultiChoiceRegexFilter
        regex_pattern: "\\(([A-D])\\)"
        ignore_case: true
        ignore_punctuation: true
  - name: ordinals
    filter:
      - function: !function utils.OrdinalsToLetters
      - function: take_first
"""

REASONING_YAML = r"""
include: _default_template_yaml
task: compat_reasoning
doc_to_messages: !function utils.reasoning_doc_to_messages
process_results: !function utils.reasoning_process_results
metric_list:
  - metric: acc_score
  - metric: format_score
"""

DOCS = [
    {"id": "d0", "question": "Which animal barks?", "choices": ["cat", "dog", "fish", "cow"], "answer": "B"},
    {"id": "d1", "question": "Which animal meows?", "choices": ["cat", "dog", "fish", "cow"], "answer": "A"},
    {"id": "d2", "question": "Which animal swims?", "choices": ["cat", "dog", "fish", "cow"], "answer": "C"},
]
CANNED = {
    "Which animal barks?": "It is clearly the Dog.",
    "Which animal meows?": "(A)",
    "Which animal swims?": "the third",
    "Reason first: Which animal barks?": "<analysis>dogs bark</analysis><answer>B</answer>",
    "Reason first: Which animal meows?": "<answer>(A)</answer>",
    "Reason first: Which animal swims?": "<analysis>fish swim</analysis><answer>D</answer>",
}

COVERED_NAMES = [
    "eval_logger", "lmms_utils", "anls", "levenshtein_distance", "strip_reasoning_tags", "Filter",
    "ExtendedRegexFilter", "RegexFilter", "MapFilter", "file_utils", "load_default_template_yaml",
    "generate_submission_file", "extract_mcq_answer", "resolve_media_reference", "get_multi_choice_info",
    "parse_mmmu_multi_choice_response", "parse_point2d", "compute_score", "extract_anwser_tag", "format_reward",
    "make_reasoning_doc_to_messages", "make_reasoning_process_results", "EvalAIAnswerProcessor",
    "lmms_eval_logger", "resolve_cache_dir", "sanitize_model_name",
]  # fmt: skip


@pytest.fixture
def lmms_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "lmms_tasks" / "compat"
    write(folder / "utils.py", UTILS_PY)
    write(folder / "_default_template_yaml", TEMPLATE)
    write(folder / "compat_mcq.yaml", MCQ_YAML)
    write(folder / "compat_reasoning.yaml", REASONING_YAML)
    write_jsonl(folder / "data" / "test.jsonl", DOCS)
    return folder


def resolve(folder: Path, name: str):
    return FunctionRef(f"utils.{name}", folder, str(folder / "compat_mcq.yaml")).resolve("process_results")


def test_every_covered_import_path_resolves(lmms_folder: Path) -> None:
    import loguru

    from lmms_eval import utils
    from lmms_eval.api.filter import Filter
    from lmms_eval.tasks._task_utils import file_utils

    for name in COVERED_NAMES:
        assert resolve(lmms_folder, name) is not None, name
    assert resolve(lmms_folder, "eval_logger") is loguru.logger is resolve(lmms_folder, "lmms_eval_logger")
    assert resolve(lmms_folder, "Filter") is Filter
    assert resolve(lmms_folder, "lmms_utils") is utils
    assert resolve(lmms_folder, "generate_submission_file") is file_utils.generate_submission_file
    assert resolve(lmms_folder, "POST_PROMPT") == "\nAnswer with the option's letter."  # the template, read at import
    assert "note" not in resolve(lmms_folder, "config")["lmms_eval_specific_kwargs"]["default"]


def test_submission_aggregation_writes_under_output_path(lmms_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    aggregate = resolve(lmms_folder, "write_submission")
    assert aggregate([{"id": "d0"}], argparse.Namespace(output_path="out")) == 1
    assert json.loads((tmp_path / "out" / "submissions" / "compat_mcq.json").read_text()) == [{"id": "d0"}]


def read_samples(output: Path, task: str) -> list[dict]:
    [path] = list(output.glob(f"*/*_samples_{task}_*.jsonl"))
    return sorted((json.loads(line) for line in path.read_text().splitlines()), key=lambda row: row["doc_id"])


def test_lmms_style_tasks_run_end_to_end(lmms_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.tasks._task_utils import reasoning_utils

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(reasoning_utils, "USE_LLM_JUDGE", "False")
    output = tmp_path / "out"
    with OracleServer(canned=CANNED) as server:
        code = main(
            [
                "--model", "openai", "--model_args", f"base_url={server.base_url},model=m,retry_base_delay=0.01",
                "--tasks", "compat_mcq,compat_reasoning", "--include_path", str(lmms_folder.parent),
                "--output_path", str(output), "--log_samples",
            ]
        )  # fmt: skip
    assert code == 0

    mcq = read_samples(output, "compat_mcq")
    # The ExtendedRegexFilter subclass returns one string per request; the MapFilter one lists.
    assert [row["filtered_resps"]["letter"] for row in mcq] == ["(B)", "A", "[invalid]"]
    assert [row["filtered_resps"]["ordinals"] for row in mcq] == ["It is clearly the Dog.", "(A)", "the C"]
    assert [row["scores"]["letter"]["acc"] for row in mcq] == [1.0, 1.0, 0.0]
    # "Dog" reads as option D; "the C" as C.
    assert [row["scores"]["ordinals"]["acc"] for row in mcq] == [0.0, 1.0, 1.0]

    reasoning = read_samples(output, "compat_reasoning")
    [system, user] = reasoning[0]["prompt"]
    assert system["role"] == "system" and "<analysis>" in system["content"][0]["text"]
    assert user["content"][-1]["text"].startswith("Reason first: Which animal barks?")
    assert [row["scores"]["none"]["acc_score"] for row in reasoning] == [1.0, 1.0, 0.0]
