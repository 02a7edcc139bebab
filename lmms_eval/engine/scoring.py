"""Stage 5-6: filters over raw responses, then per-sample scores."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.filter import Filter
from lmms_eval.api.reasoning import DEFAULT_REASONING_TAGS, TagPair, strip_reasoning_tags
from lmms_eval.api.response import Failure, Response
from lmms_eval.engine.inference import TaskResponses
from lmms_eval.errors import DocumentError, TaskConfigError
from lmms_eval.filters import FILTERS
from lmms_eval.filters.text import StripThinking
from lmms_eval.metrics.aggregation import AGGREGATIONS, Aggregation
from lmms_eval.metrics.sample import (
    GENERATION_METRICS,
    LOGLIKELIHOOD_METRICS,
    LOWER_IS_BETTER,
    MULTIPLE_CHOICE_METRICS,
    loglikelihood_scores,
    multiple_choice_scores,
)
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import is_builtin
from lmms_eval.taskdefs.task import Task

NO_FILTER = "none"
_DEFAULT_METRICS = {
    "generate_until": {"exact_match": "mean"},
    "loglikelihood": LOGLIKELIHOOD_METRICS,
    "multiple_choice": MULTIPLE_CHOICE_METRICS,
}


@dataclass(frozen=True)
class MetricSpec:
    """One `metric_list` entry, resolved."""

    name: str
    aggregation_name: str
    aggregation: Aggregation
    higher_is_better: bool
    options: dict[str, Any] = field(default_factory=dict)
    takes_args: bool = False  # lmms-eval's `agg(items, args)`: it reads the run's settings, often to write a submission file
    # Whether resampling it for a bootstrap standard error is safe: true for the registry's
    # aggregations and the built-in library's own functions, which are pure. A user's task
    # code may write files on every call (lmms-eval never resamples it: stderr N/A).
    resamplable: bool = True

    @property
    def resampled(self) -> bool:
        return self.resamplable and not self.takes_args

    def aggregate(self, values: list[Any], args: Any = None) -> Any:
        """The aggregation called as lmms-eval calls it: `agg(items, args=...)` when it has a
        parameter named `args`, else `agg(items)`."""
        return self.aggregation(values, args=args) if self.takes_args else self.aggregation(values)


@dataclass
class SampleResult:
    """Everything known about one doc after scoring (one row of the samples log)."""

    doc_id: int
    target: Any
    prompt: Any
    responses: list[Response]
    filtered: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)  # filter -> metric -> value

    @property
    def failures(self) -> list[Failure]:
        return [response.failure for response in self.responses if response.failure is not None]


@dataclass(frozen=True)
class FilterPipeline:
    name: str
    steps: tuple[Filter, ...]
    task: str = ""  # for error messages

    def apply(self, responses: list[Any], docs: list[dict[str, Any]]) -> list[Any]:
        """Each step maps every doc's value at once. A step may give a list per doc or one
        value (a string) per doc, as lmms-eval task filters do; either is passed on."""
        for step in self.steps:
            output = step.apply(responses, docs)
            if output is None or isinstance(output, (str, bytes, dict)):
                raise DocumentError(f"task {self.task}: filter '{self.name}' step {type(step).__name__} returned {type(output).__name__}, not one value per doc")
            responses = list(output)
            if len(responses) != len(docs):  # zip would silently drop the docs past the end
                raise DocumentError(
                    f"task {self.task}: filter '{self.name}' step {type(step).__name__} returned {len(responses)} values for {len(docs)} docs"
                )
        return responses


def build_metric_specs(task: Task) -> list[MetricSpec]:
    config = task.config
    entries = config.metric_list or [{"metric": name, "aggregation": agg} for name, agg in _DEFAULT_METRICS[config.output_type].items()]
    # Membership, not the set of names: listing every name would read the installed
    # packages' entry points (metric plugins) on every run.
    builtin = GENERATION_METRICS if config.output_type == "generate_until" else _DEFAULT_METRICS[config.output_type]
    specs = []
    for entry in entries:
        name = entry["metric"]
        if task.process_results is None and task.judge_scoring is None and name not in builtin:
            raise TaskConfigError(
                f"metric '{name}' is not a built-in {config.output_type} metric and the task has no process_results",
                path=config.source,
                key="metric_list",
            )
        options = {k: v for k, v in entry.items() if k not in ("metric", "aggregation", "higher_is_better")}
        if task.process_results is None and config.output_type == "generate_until" and name in builtin:
            _check_options(name, GENERATION_METRICS.get(name).score, options, config.source)
        aggregation_value = entry.get("aggregation", _default_aggregation(config.output_type, name))
        aggregation = _resolve_aggregation(aggregation_value, config.source)
        specs.append(
            MetricSpec(
                name=name,
                aggregation_name=str(aggregation_value),
                aggregation=aggregation,
                higher_is_better=bool(entry.get("higher_is_better", name not in LOWER_IS_BETTER)),
                options=options,
                takes_args=_has_parameter(aggregation, "args"),
                resamplable=not isinstance(aggregation_value, FunctionRef) or is_builtin(aggregation_value.base_dir),
            )
        )
    return specs


def _check_options(name: str, score: Any, options: dict[str, Any], source: str) -> None:
    """Metric options are checked before any request is sent, not when scoring fails."""
    accepted = set(inspect.signature(score).parameters) - {"prediction", "references"}
    unknown = sorted(set(options) - accepted)
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(score).parameters.values()):
        raise TaskConfigError(f"metric '{name}' takes no option {', '.join(unknown)} (it takes: {', '.join(sorted(accepted))})", path=source, key="metric_list")


def _has_parameter(function: Any, name: str) -> bool:
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.kind is not parameter.POSITIONAL_ONLY


def _default_aggregation(output_type: str, name: str) -> str:
    return _DEFAULT_METRICS[output_type].get(name, "mean") if output_type != "generate_until" else "mean"


def _resolve_aggregation(value: Any, source: str) -> Aggregation:
    if isinstance(value, FunctionRef):
        return value.resolve("aggregation")
    if str(value) not in AGGREGATIONS:
        raise TaskConfigError(AGGREGATIONS.unknown_message(str(value)), path=source, key="metric_list")
    return AGGREGATIONS.get(str(value))


def build_filter_pipelines(task: Task) -> list[FilterPipeline]:
    if task.config.output_type != "generate_until" or not task.config.filter_list:
        return [FilterPipeline(NO_FILTER, (), task.name)]
    return [
        FilterPipeline(entry["name"], tuple(_build_filter(step, task.config.source) for step in entry["filter"]), task.name)
        for entry in task.config.filter_list
    ]


def _build_filter(step: dict[str, Any], source: str) -> Filter:
    kwargs = {k: v for k, v in step.items() if k != "function"}
    function = step.get("function")
    if isinstance(function, FunctionRef):
        target = function.resolve("filter_list")
    elif function in FILTERS:
        target = FILTERS.get(function)
    else:
        raise TaskConfigError(FILTERS.unknown_message(str(function)), path=source, key="filter_list")
    if isinstance(target, type):
        try:
            return target(**kwargs)
        except TypeError as error:
            raise TaskConfigError(f"filter '{function}': {error}", path=source, key="filter_list") from None
    return _FunctionFilter(target)


class _FunctionFilter(Filter):
    """A plain function `(responses, docs) -> responses` used as a filter step."""

    def __init__(self, function: Any) -> None:
        super().__init__()
        self.function = function

    def apply(self, responses: Any, docs: Any) -> Any:
        return self.function(responses, docs)


class Scorer:
    """Scores every answered doc of one task."""

    def __init__(self, task: Task, predict_only: bool = False, reasoning_tags: Sequence[TagPair] = DEFAULT_REASONING_TAGS):
        self.task = task
        self.predict_only = predict_only
        self.pipelines = build_filter_pipelines(task)
        config = task.config
        # The task's own tags win over the run's (--reasoning_tags), as in lmms-eval.
        self.reasoning_tags = tuple(reasoning_tags if config.reasoning_tags is None else config.reasoning_tags)
        # auto_strip_thinking is this project's key: strip before the filters see the text.
        self.strip_thinking = StripThinking(tags=[list(pair) for pair in self.reasoning_tags] or None) if config.auto_strip_thinking else None
        self.metrics = [] if predict_only else build_metric_specs(task)

    def score(self, docs: Any, answered: TaskResponses, full_docs: Any = None) -> list[SampleResult]:
        """`docs[doc_id]` gives a doc: a list, a Dataset, or a mapping of the answered ids.
        `full_docs` (every evaluated doc) goes to process_results functions that ask for it
        (`full_docs: true`); `docs` stands in when it is not given."""
        full_docs = docs if full_docs is None else full_docs
        by_doc = answered.by_doc()
        samples = [
            SampleResult(doc_id, self.task.target(docs[doc_id], doc_id), answered.prompts.get(doc_id), responses)
            for doc_id, responses in by_doc.items()
        ]
        scorable = [sample for sample in samples if not sample.failures]
        scorable_docs = [docs[sample.doc_id] for sample in scorable]
        raw = [self._raw_values(sample.responses) for sample in scorable]
        for pipeline in self.pipelines:
            filtered = pipeline.apply(raw, scorable_docs) if pipeline.steps else raw
            for sample, doc, value in zip(scorable, scorable_docs, filtered):
                value = self._without_reasoning(value)
                sample.filtered[pipeline.name] = value
                if not self.predict_only:
                    sample.scores[pipeline.name] = self._score_doc(sample, doc, value, full_docs)
        return samples

    def _raw_values(self, responses: Sequence[Response]) -> list[Any]:
        if self.task.config.output_type != "generate_until":
            return [response.value for response in responses]
        texts = [response.value.strip() for response in responses]  # type: ignore[union-attr]
        if self.strip_thinking is not None:
            texts = [self.strip_thinking.map(text, {}) for text in texts]
        return texts

    def _without_reasoning(self, filtered: Any) -> Any:
        """Reasoning blocks stripped from generated text after the filters, before scoring
        (lmms-eval's --reasoning_tags step); other values pass as they are."""
        if not self.reasoning_tags or self.task.config.output_type != "generate_until":
            return filtered
        if isinstance(filtered, str):
            return strip_reasoning_tags(filtered, self.reasoning_tags)
        if isinstance(filtered, list):
            return [strip_reasoning_tags(item, self.reasoning_tags) if isinstance(item, str) else item for item in filtered]
        return filtered

    def _score_doc(self, sample: SampleResult, doc: dict[str, Any], filtered: Any, full_docs: Any) -> dict[str, Any]:
        if self.task.process_results is not None:
            values = filtered if isinstance(filtered, list) else [filtered]
            if self.task.config.output_type != "generate_until":
                values = [(score.logprob, score.is_greedy) for score in values]
            returned = self.task.results_of(doc, values, sample.doc_id, full_docs=full_docs)
            if not isinstance(returned, dict):
                raise DocumentError(f"task {self.task.name} doc {sample.doc_id}: process_results returned {type(returned).__name__}, not a dict")
            return {spec.name: returned[spec.name] for spec in self.metrics if spec.name in returned}
        return self._builtin_scores(sample, doc, filtered)

    def _builtin_scores(self, sample: SampleResult, doc: dict[str, Any], filtered: Any) -> dict[str, Any]:
        output_type = self.task.config.output_type
        if output_type == "multiple_choice":
            choices = self.task.choices(doc, sample.doc_id)
            computed = multiple_choice_scores(filtered, choices, self.task.gold_indices(doc, sample.doc_id, choices))
            return {spec.name: computed[spec.name] for spec in self.metrics}
        if output_type == "loglikelihood":
            computed = loglikelihood_scores(filtered[0])
            return {spec.name: computed[spec.name] for spec in self.metrics}
        prediction = filtered[0] if isinstance(filtered, list) else filtered
        references = self._references(sample.target, doc, sample.doc_id)
        # A judged task's other metrics come from the judge stage.
        builtin = [spec for spec in self.metrics if spec.name in GENERATION_METRICS]
        return {spec.name: GENERATION_METRICS.get(spec.name).score(prediction, references, **spec.options) for spec in builtin}

    def _references(self, target: Any, doc: dict[str, Any], doc_id: int) -> list[str]:
        golds = target if isinstance(target, list) else [target]
        if self.task.config.doc_to_choice is not None and all(isinstance(gold, int) for gold in golds):
            choices = self.task.choices(doc, doc_id)
            return [choices[gold] for gold in golds]
        return [str(gold) for gold in golds]
