"""mmlu: 57 subjects in four category groups, 5-shot from dev (the first five), multiple choice
by log-likelihood of " A" ... " D"; per-subject accuracy and micro averages over questions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmark_helpers import read_results, read_samples, write_parquet

from lmms_eval.cli.main import main
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

LETTERS = "ABCD"
CATEGORIES = ("stem", "humanities", "social_sciences", "other")


def subjects_by_category() -> dict[str, list[str]]:
    """The subjects each library category group lists (read from the group files)."""
    import yaml

    found = {}
    for category in CATEGORIES:
        group = yaml.safe_load((BUILTIN_TASK_DIR / "mmlu" / f"_mmlu_{category}.yaml").read_text())
        found[category] = [name.removeprefix("mmlu_") for name in group["task"]]
    return found


def plan(subject: str, position: int) -> list[tuple[int, int]]:
    """(gold index, index the model prefers) per test question of a subject: anatomy has three
    questions (two right), philosophy two (none right), every other subject one question,
    right when its position in the whole list is even."""
    if subject == "anatomy":
        return [(1, 1), (2, 2), (3, 0)]
    if subject == "philosophy":
        return [(0, 1), (2, 3)]
    return [(position % 4, position % 4 if position % 2 == 0 else (position + 1) % 4)]


class LetterScorer:
    """A log-likelihood double: the letter the plan prefers for a question scores 0, others -1.
    It finds the question by its tag in the last block of the prompt."""

    is_chat = False
    secret_args = ()
    identity = "letter-scorer"
    preferred: dict[str, str] = {}
    seen: list[tuple[str, str]] = []

    @classmethod
    def create(cls, model_args, batch_size=1, device=None):
        return cls()

    def supports(self, request_type):
        return request_type.value == "loglikelihood"

    def loglikelihood(self, requests):
        from lmms_eval.api.response import Response

        for request in requests:
            self.seen.append((request.context, request.continuation))
            [tag] = re.findall(r"\[q\d+\]", request.context.rsplit("\n\n", 1)[-1])
            yield Response.scored(request, 0.0 if request.continuation == " " + self.preferred[tag] else -1.0, is_greedy=False)

    def close(self):
        pass


def write_fixture(folder: Path, categories: dict[str, list[str]]) -> dict[str, list[tuple[int, int]]]:
    import datasets

    features = datasets.Features(
        {
            "question": datasets.Value("string"),
            "subject": datasets.Value("string"),
            "choices": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.ClassLabel(names=list(LETTERS)),
        }
    )
    plans, number = {}, 0
    subjects = [subject for members in categories.values() for subject in members]
    for position, subject in enumerate(subjects):
        plans[subject] = plan(subject, position)
        dev = [{"question": f"Dev {subject} {k}?", "subject": subject, "choices": ["w", "x", "y", "z"], "answer": k % 4} for k in range(5)]
        test = []
        for gold, preferred in plans[subject]:
            number += 1
            LetterScorer.preferred[f"[q{number}]"] = LETTERS[preferred]
            test.append({"question": f"  [q{number}] About {subject}?\n", "subject": subject, "choices": ["p", "q", "r", "s"], "answer": gold})
        write_parquet(folder / f"{subject}_dev.parquet", dev, features)
        write_parquet(folder / f"{subject}_test.parquet", test, features)
        (folder / f"mmlu_{subject}.yaml").write_text(
            f"include: mmlu/mmlu_{subject}.yaml\ntask: mmlu_{subject}\ndataset_path: parquet\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    dev: {subject}_dev.parquet\n    test: {subject}_test.parquet\n",
            encoding="utf-8",
        )
    return plans


def accuracy(rows: list[tuple[int, int]]) -> float:
    return sum(gold == preferred for gold, preferred in rows) / len(rows)


def test_mmlu_end_to_end(tmp_path, monkeypatch):
    from lmms_eval.models import MODELS

    monkeypatch.setitem(MODELS._targets, "letter_scorer", LetterScorer)
    monkeypatch.setitem(MODELS._loaded, "letter_scorer", LetterScorer)
    LetterScorer.preferred, LetterScorer.seen = {}, []
    categories = subjects_by_category()
    assert sum(map(len, categories.values())) == 57
    folder = tmp_path / "tasks"
    folder.mkdir()
    plans = write_fixture(folder, categories)
    output = tmp_path / "out"
    code = main(["--model", "letter_scorer", "--tasks", "mmlu", "--include_path", str(folder), "--output_path", str(output), "--log_samples"])
    assert code == 0

    written = read_results(output)
    results, groups = written["results"], written["groups"]
    assert results["mmlu_anatomy"]["acc,none"] == pytest.approx(2 / 3)
    assert results["mmlu_philosophy"]["acc,none"] == 0.0
    for subject, rows in plans.items():
        assert results[f"mmlu_{subject}"]["acc,none"] == pytest.approx(accuracy(rows)), subject
    for category, members in categories.items():
        pooled = [row for subject in members for row in plans[subject]]
        assert groups[f"mmlu_{category}"]["acc,none"] == pytest.approx(accuracy(pooled)), category
    everything = [row for rows in plans.values() for row in rows]
    assert len(everything) == 60
    assert groups["mmlu"]["acc,none"] == pytest.approx(accuracy(everything))  # micro: 60 questions pooled
    macro = sum(accuracy(rows) for rows in plans.values()) / 57
    assert groups["mmlu"]["acc,none"] != pytest.approx(macro)

    # The prompt: description, the first five dev questions with their letters, then the question.
    [first] = read_samples(output, "mmlu_abstract_algebra")
    contexts = {context for context, _ in LetterScorer.seen if "About abstract_algebra" in context}
    assert contexts == {
        "The following are multiple choice questions (with answers) about abstract algebra.\n\n"
        + "".join(f"Dev abstract_algebra {k}?\nA. w\nB. x\nC. y\nD. z\nAnswer: {LETTERS[k % 4]}\n\n" for k in range(5))
        + "[q1] About abstract_algebra?\nA. p\nB. q\nC. r\nD. s\nAnswer:"
    }
    assert sorted(c for ctx, c in LetterScorer.seen if ctx in contexts) == [" A", " B", " C", " D"]
    assert len(first["resps"]) == 4
