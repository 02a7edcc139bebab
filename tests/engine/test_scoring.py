"""Stage 5-6: filter pipelines and per-sample scores."""

from __future__ import annotations

import pytest

from lmms_eval.api.response import FailureKind, Response
from lmms_eval.engine.inference import TaskResponses
from lmms_eval.engine.requests import RequestBuilder, iter_requests
from lmms_eval.engine.scoring import NO_FILTER, Scorer, build_filter_pipelines, build_metric_specs
from lmms_eval.errors import DocumentError, TaskConfigError
from lmms_eval.metrics.aggregation import mean, perplexity
from lmms_eval.taskdefs.task import Task

ROWS = [
    {"q": "Sky?", "a": "blue", "choices": ["red", "blue", "green"], "gold": 1},
    {"q": "Grass?", "a": "green", "choices": ["green", "yellow"], "gold": 0},
    {"q": "Blood?", "a": "red", "choices": ["purple", "red", "black"], "gold": 1},
]
MULTIPLE_CHOICE = {"output_type": "multiple_choice", "doc_to_choice": "choices", "doc_to_target": "gold"}


def answer(task: Task, texts: dict[int, str | list[str] | None]) -> TaskResponses:
    """Responses by hand: a text per doc (a list for repeats); None means the request failed."""
    answered = TaskResponses()
    requests = iter_requests(RequestBuilder(task, chat=False), task.eval_docs(), list(texts))
    for request in requests:
        text = texts[request.origin.doc_id]
        text = text[request.origin.index] if isinstance(text, list) else text
        if request.origin.index == 0:
            answered.prompts[request.origin.doc_id] = request.prompt
        if text is None:
            answered.add(Response.failed(request, FailureKind.TIMEOUT, "slow", attempts=2))
        else:
            answered.add(Response.generated(request, text))
    return answered


def score_choices(task: Task, logprobs: dict[int, list[float | None]]) -> TaskResponses:
    """Loglikelihood responses by hand: one (logprob) per choice; None means failed."""
    answered = TaskResponses()
    for request in iter_requests(RequestBuilder(task, chat=False), task.eval_docs(), list(logprobs)):
        logprob = logprobs[request.origin.doc_id][request.origin.index]
        if logprob is None:
            answered.add(Response.failed(request, FailureKind.SERVER_ERROR, "500"))
        else:
            answered.add(Response.scored(request, logprob, request.origin.index == 0))
    return answered


def scores(samples) -> dict[int, dict]:
    return {sample.doc_id: sample.scores for sample in samples}


# --- metric specs ----------------------------------------------------------------------


def test_default_metrics_per_output_type(make_task):
    generate = build_metric_specs(make_task(ROWS))
    assert [(spec.name, spec.aggregation_name, spec.aggregation, spec.higher_is_better) for spec in generate] == [
        ("exact_match", "mean", mean, True)
    ]
    choice = build_metric_specs(make_task(ROWS, **MULTIPLE_CHOICE))
    assert [(spec.name, spec.aggregation_name) for spec in choice] == [("acc", "mean"), ("acc_norm", "mean")]
    likelihood = build_metric_specs(make_task(ROWS, output_type="loglikelihood"))
    assert [(spec.name, spec.aggregation, spec.higher_is_better) for spec in likelihood] == [
        ("acc", mean, True), ("perplexity", perplexity, False),
    ]


def test_metric_options_are_kept(make_task):
    task = make_task(ROWS, metric_list=[{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True, "ignore_case": True}])
    [spec] = build_metric_specs(task)
    assert spec.options == {"ignore_case": True}


def test_unknown_metric_without_process_results_is_a_config_error(make_task):
    with pytest.raises(TaskConfigError, match="metric 'bleu' is not a built-in generate_until metric"):
        Scorer(make_task(ROWS, metric_list=[{"metric": "bleu"}]))


def test_unknown_aggregation_is_a_config_error(make_task):
    with pytest.raises(TaskConfigError, match="metric_list"):
        Scorer(make_task(ROWS, metric_list=[{"metric": "exact_match", "aggregation": "mode"}]))


def test_unknown_filter_is_a_config_error(make_task):
    with pytest.raises(TaskConfigError, match="filter_list"):
        Scorer(make_task(ROWS, filter_list=[{"name": "x", "filter": [{"function": "no_such_filter"}]}]))


def test_predict_only_skips_metric_checks(make_task):
    assert Scorer(make_task(ROWS, metric_list=[{"metric": "bleu"}]), predict_only=True).metrics == []


# --- generate_until --------------------------------------------------------------------


def test_builtin_exact_match(make_task):
    task = make_task(ROWS)
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: " blue\n", 1: "Green", 2: "red"}))
    assert scores(samples) == {0: {NO_FILTER: {"exact_match": 1.0}}, 1: {NO_FILTER: {"exact_match": 0.0}}, 2: {NO_FILTER: {"exact_match": 1.0}}}
    first = samples[0]
    assert (first.doc_id, first.target, first.prompt) == (0, "blue", "Sky?")
    assert first.filtered == {NO_FILTER: ["blue"]}  # stripped, one value per answer
    assert first.failures == []


def test_exact_match_options(make_task):
    task = make_task(ROWS, metric_list=[{"metric": "exact_match", "ignore_case": True, "ignore_punctuation": True}])
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: "Blue.", 1: "GREEN!", 2: "purple"}))
    assert [sample.scores[NO_FILTER]["exact_match"] for sample in samples] == [1.0, 1.0, 0.0]


def test_filter_pipelines_are_keyed_by_name(make_task):
    task = make_task(
        ROWS,
        filter_list=[
            {"name": "shouted", "filter": [{"function": "!function shout"}]},
            {"name": "lower-first", "filter": [{"function": "lowercase"}, {"function": "take_first"}]},
        ],
    )
    assert [pipeline.name for pipeline in build_filter_pipelines(task)] == ["shouted", "lower-first"]
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: "Blue", 1: "green"}))
    assert samples[0].filtered == {"shouted": ["BLUE!"], "lower-first": "blue"}
    assert samples[1].filtered == {"shouted": ["GREEN!"], "lower-first": "green"}
    assert scores(samples) == {
        0: {"shouted": {"exact_match": 0.0}, "lower-first": {"exact_match": 1.0}},
        1: {"shouted": {"exact_match": 0.0}, "lower-first": {"exact_match": 1.0}},
    }


def test_filters_see_every_answer_of_a_doc(make_task):
    task = make_task(ROWS, repeats=3, filter_list=[{"name": "vote", "filter": [{"function": "majority_vote"}]}])
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: ["red", "blue", "blue"], 1: ["green", "red", "blue"]}))
    assert [sample.filtered["vote"] for sample in samples] == ["blue", "green"]
    assert [sample.scores["vote"]["exact_match"] for sample in samples] == [1.0, 1.0]
    assert [len(sample.responses) for sample in samples] == [3, 3]


def test_without_a_filter_the_first_of_several_answers_is_scored(make_task):
    task = make_task(ROWS, repeats=2)
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: ["red", "blue"], 2: ["red", "blue"]}))
    assert [sample.scores[NO_FILTER]["exact_match"] for sample in samples] == [0.0, 1.0]


def test_process_results_path(make_task):
    task = make_task(
        ROWS, process_results="!function process_results", metric_list=[{"metric": "match"}, {"metric": "length", "aggregation": "median"}]
    )
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: "blue", 1: " yellow "}))
    # "unused" is returned but not listed in metric_list, so it is dropped
    assert scores(samples) == {0: {NO_FILTER: {"match": 1.0, "length": 4}}, 1: {NO_FILTER: {"match": 0.0, "length": 6}}}


def test_process_results_must_return_a_dict(make_task):
    task = make_task(ROWS, process_results="!function process_results_list", metric_list=[{"metric": "match"}])
    with pytest.raises(DocumentError, match="task colours doc 0: process_results returned list, not a dict"):
        Scorer(task).score(task.eval_docs(), answer(task, {0: ["blue"]}))


def test_generation_references_from_choice_indices(make_task):
    task = make_task(ROWS, doc_to_choice="choices", doc_to_target="gold")
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: "blue", 1: "yellow", 2: "red"}))
    assert [sample.target for sample in samples] == [1, 0, 1]
    assert [sample.scores[NO_FILTER]["exact_match"] for sample in samples] == [1.0, 0.0, 1.0]


def test_docs_with_a_failed_response_are_not_scored(make_task):
    task = make_task(ROWS, repeats=2)
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: ["blue", None], 1: ["green", "green"]}))
    failed, ok = samples
    assert failed.doc_id == 0 and ok.doc_id == 1
    assert [failure.kind for failure in failed.failures] == [FailureKind.TIMEOUT]
    assert failed.scores == {} and failed.filtered == {}
    assert ok.scores == {NO_FILTER: {"exact_match": 1.0}}


def test_predict_only_filters_but_does_not_score(make_task):
    task = make_task(ROWS, filter_list=[{"name": "up", "filter": [{"function": "uppercase"}, {"function": "take_first"}]}])
    samples = Scorer(task, predict_only=True).score(task.eval_docs(), answer(task, {0: "blue", 2: "red"}))
    assert [sample.filtered for sample in samples] == [{"up": "BLUE"}, {"up": "RED"}]
    assert [sample.scores for sample in samples] == [{}, {}]


# --- loglikelihood and multiple choice -------------------------------------------------


def test_multiple_choice_acc_and_acc_norm(make_task):
    task = make_task(ROWS, **MULTIPLE_CHOICE)
    # doc 0 (gold "blue"): raw best is red (-3.3), per character best is blue (-4.0 / 4 = -1.0 > -3.3 / 3 = -1.1)
    # doc 2 (gold "red"): raw best is red (-1.5), per character best is purple (-2.0 / 6 > -1.5 / 3)
    answered = score_choices(task, {0: [-3.3, -4.0, -9.0], 1: [-0.5, -2.0], 2: [-2.0, -1.5, -5.0]})
    samples = Scorer(task).score(task.eval_docs(), answered)
    assert scores(samples) == {
        0: {NO_FILTER: {"acc": 0.0, "acc_norm": 1.0}},
        1: {NO_FILTER: {"acc": 1.0, "acc_norm": 1.0}},
        2: {NO_FILTER: {"acc": 1.0, "acc_norm": 0.0}},
    }
    assert samples[0].target == 1
    assert [score.logprob for score in samples[0].filtered[NO_FILTER]] == [-3.3, -4.0, -9.0]


def test_multiple_choice_with_a_failed_choice_is_not_scored(make_task):
    task = make_task(ROWS, **MULTIPLE_CHOICE)
    samples = Scorer(task).score(task.eval_docs(), score_choices(task, {0: [-1.0, None, -2.0], 1: [-0.5, -2.0]}))
    assert scores(samples) == {0: {}, 1: {NO_FILTER: {"acc": 1.0, "acc_norm": 1.0}}}


def test_multiple_choice_gold_given_as_choice_text(make_task):
    task = make_task(ROWS, output_type="multiple_choice", doc_to_choice="choices", doc_to_target="a")
    samples = Scorer(task).score(task.eval_docs(), score_choices(task, {0: [-3.0, -1.0, -2.0], 1: [-3.0, -1.0]}))
    assert [sample.scores[NO_FILTER]["acc"] for sample in samples] == [1.0, 0.0]


def test_multiple_choice_process_results_gets_pairs(make_task):
    task = make_task(ROWS, process_results="!function process_results_ll", metric_list=[{"metric": "best"}], **MULTIPLE_CHOICE)
    samples = Scorer(task).score(task.eval_docs(), score_choices(task, {0: [-3.0, -1.0, -2.0], 2: [-1.0, -3.0, -2.0]}))
    assert scores(samples) == {0: {NO_FILTER: {"best": 1.0}}, 2: {NO_FILTER: {"best": 0.0}}}


def test_loglikelihood_scores(make_task):
    task = make_task(ROWS, output_type="loglikelihood")
    answered = TaskResponses()
    for request in iter_requests(RequestBuilder(task, chat=False), task.eval_docs(), [0, 1]):
        answered.add(Response.scored(request, -2.5 if request.origin.doc_id == 0 else -0.25, request.origin.doc_id == 1))
    samples = Scorer(task).score(task.eval_docs(), answered)
    assert scores(samples) == {0: {NO_FILTER: {"acc": 0.0, "perplexity": -2.5}}, 1: {NO_FILTER: {"acc": 1.0, "perplexity": -0.25}}}


def test_filter_list_is_ignored_for_loglikelihood_tasks(make_task):
    task = make_task(ROWS, filter_list=[{"name": "up", "filter": [{"function": "uppercase"}]}], **MULTIPLE_CHOICE)
    assert [pipeline.name for pipeline in build_filter_pipelines(task)] == [NO_FILTER]


def test_docs_may_be_a_mapping_of_the_answered_ids(make_task):
    task = make_task(ROWS)
    docs = task.eval_docs()
    samples = Scorer(task).score({0: docs[0], 2: docs[2]}, answer(task, {0: "blue", 2: "blue"}))
    assert scores(samples) == {0: {NO_FILTER: {"exact_match": 1.0}}, 2: {NO_FILTER: {"exact_match": 0.0}}}


def test_metric_options_are_checked_before_any_request(make_task):
    task = make_task(ROWS, metric_list=[{"metric": "exact_match", "ignore_cases": True}])
    with pytest.raises(TaskConfigError, match="metric 'exact_match' takes no option ignore_cases"):
        Scorer(task)


def test_auto_strip_thinking_removes_reasoning_before_filters(make_task):
    task = make_task(ROWS, auto_strip_thinking=True)
    answered = answer(task, {0: "<think>sky is blue?</think> blue", 1: "<think>cut off", 2: "red"})
    samples = Scorer(task).score(task.eval_docs(), answered)
    assert [sample.filtered[NO_FILTER] for sample in samples] == [["blue"], [""], ["red"]]
    assert [sample.scores[NO_FILTER]["exact_match"] for sample in samples] == [1.0, 0.0, 1.0]
    custom = make_task(ROWS, name="tagged", reasoning_tags=[["[R]", "[/R]"]])
    tagged = Scorer(custom).score(custom.eval_docs(), answer(custom, {0: "[R]hmm[/R]blue", 1: "green", 2: "red"}))
    assert tagged[0].filtered[NO_FILTER] == ["blue"]


# --- task code conventions (compat.md 4.6, 4.8) --------------------------------------------------


def test_a_filter_class_may_return_one_string_per_doc(make_task):
    task = make_task(
        ROWS,
        filter_list=[
            {"name": "first-word", "filter": [{"function": "!function FirstWordFilter"}, {"function": "lowercase"}]},
            {"name": "then-take", "filter": [{"function": "!function FirstWordFilter"}, {"function": "take_first"}]},
        ],
        process_results="!function process_results",
        metric_list=[{"metric": "match"}],
    )
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: "Blue sky", 1: "green grass"}))
    assert [sample.filtered for sample in samples] == [{"first-word": "blue", "then-take": "Blue"}, {"first-word": "green", "then-take": "green"}]
    # process_results gets one entry per request either way
    assert [sample.scores["first-word"]["match"] for sample in samples] == [1.0, 1.0]
    assert [sample.scores["then-take"]["match"] for sample in samples] == [0.0, 1.0]


def test_a_filter_that_drops_docs_is_an_error_not_a_silent_loss(make_task):
    task = make_task(ROWS, filter_list=[{"name": "short", "filter": [{"function": "!function DropOneFilter"}]}])
    with pytest.raises(DocumentError, match=r"^task colours: filter 'short' step DropOneFilter returned 2 values for 3 docs$"):
        Scorer(task).score(task.eval_docs(), answer(task, {0: "blue", 1: "green", 2: "red"}))


def test_process_results_gets_full_docs_when_the_yaml_asks(make_task):
    keys = {"process_results": "!function process_results_full", "metric_list": [{"metric": "seen"}]}
    task = make_task(ROWS, full_docs=True, **keys)
    docs = task.eval_docs()
    samples = Scorer(task).score({0: docs[0]}, answer(task, {0: "blue"}), full_docs=docs)
    assert samples[0].scores[NO_FILTER] == {"seen": 3.0}
    without = make_task(ROWS, **keys)
    with pytest.raises(DocumentError, match="process_results raised TypeError"):
        Scorer(without).score(without.eval_docs(), answer(without, {0: "blue"}))


# --- reasoning blocks (--reasoning_tags) -----------------------------------------------


def test_reasoning_blocks_are_stripped_after_the_filters_by_default(make_task):
    pipelines = [
        {"name": "shouted", "filter": [{"function": "!function shout"}]},
        {"name": "lower", "filter": [{"function": "lowercase"}, {"function": "take_first"}]},
    ]
    task = make_task(ROWS, filter_list=pipelines)
    samples = Scorer(task).score(task.eval_docs(), answer(task, {0: "<think>Red?</think> BLUE", 1: "<analysis>hmm</analysis>Green"}))
    assert [sample.filtered["lower"] for sample in samples] == ["blue", "green"]
    assert [sample.scores["lower"]["exact_match"] for sample in samples] == [1.0, 1.0]
    # filters see the raw text: upper-cased tags no longer match (tags are case-sensitive)
    assert samples[0].filtered["shouted"] == ["<THINK>RED?</THINK> BLUE!"]


def test_reasoning_tags_of_the_run_and_of_the_task(make_task):
    answers = {0: "<think>red?</think> blue", 1: "[r]no[/r]green"}
    plain = make_task(ROWS)
    kept = Scorer(plain, reasoning_tags=()).score(plain.eval_docs(), answer(plain, answers))
    assert [sample.scores[NO_FILTER]["exact_match"] for sample in kept] == [0.0, 0.0]
    custom = Scorer(plain, reasoning_tags=(("[r]", "[/r]"),)).score(plain.eval_docs(), answer(plain, answers))
    assert [sample.scores[NO_FILTER]["exact_match"] for sample in custom] == [0.0, 1.0]
    # the task's own key wins over the run's; `none` turns stripping off for that task
    own = make_task(ROWS, reasoning_tags=[["[r]", "[/r]"]])
    assert [s.scores[NO_FILTER]["exact_match"] for s in Scorer(own).score(own.eval_docs(), answer(own, answers))] == [0.0, 1.0]
    off = make_task(ROWS, reasoning_tags="none")
    assert [s.scores[NO_FILTER]["exact_match"] for s in Scorer(off).score(off.eval_docs(), answer(off, answers))] == [0.0, 0.0]


def test_bad_reasoning_tags_in_a_task_name_the_key(make_task):
    with pytest.raises(TaskConfigError, match="reasoning_tags.*pairs of non-empty strings"):
        make_task(ROWS, reasoning_tags=[["<think>"]])
