"""The orchestrator: the seven stages in order, for one RunConfig."""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lmms_eval.api.model import Model
from lmms_eval.api.request import RequestType
from lmms_eval.config import RunConfig
from lmms_eval.engine.aggregate import MetricKey, Score, aggregate_group, aggregate_task
from lmms_eval.engine.distributed import ProcessGroup
from lmms_eval.engine.inference import ResponseCache, TaskResponses, run_inference
from lmms_eval.engine.modalities import refuse_unsupported_media, task_video_sampling
from lmms_eval.engine.request_cache import cached_requests
from lmms_eval.engine.requests import DocWindow, RequestBuilder
from lmms_eval.engine.scoring import MetricSpec, SampleResult, Scorer
from lmms_eval.errors import ConfigError, DatasetLoadError, ModelError
from lmms_eval.judge import resolve_judges
from lmms_eval.models import MODELS
from lmms_eval.pricing import Pricing, pricing_for, take_prices
from lmms_eval.store.identity import model_identity
from lmms_eval.store.sqlite import ResponseStore
from lmms_eval.taskdefs.index import Selection, TaskIndex
from lmms_eval.taskdefs.rendering import media_kind
from lmms_eval.taskdefs.task import PromptSettings, Task

if TYPE_CHECKING:  # the judge stage is imported by the runs that judge
    from lmms_eval.judge.stage import JudgeSetup

logger = logging.getLogger(__name__)


@dataclass
class TaskRun:
    """One task's journey through the pipeline."""

    task: Task
    doc_count: int
    doc_ids: list[int]
    answered: TaskResponses
    samples: list[SampleResult]
    metrics: list[MetricSpec]
    scores: dict[MetricKey, Score]
    judge_entry: dict[str, Any] | None = None  # the judge stage's results entry, for a judged task

    @property
    def failed_docs(self) -> int:
        return sum(1 for sample in self.samples if sample.failures)


@dataclass
class Evaluation:
    run: RunConfig
    model_class: type[Model]
    model_args: dict[str, Any]
    model_identity: str
    selection: Selection
    task_runs: dict[str, TaskRun] = field(default_factory=dict)
    group_scores: dict[str, dict[MetricKey, Score]] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    duration: float = 0.0
    source: str = "live"  # or "rescore": scored again from logged answers, no model asked
    judges: dict[str, Any] = field(default_factory=dict)  # task -> JudgeSpec, for tasks that need a judge
    judge_entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # task -> Judge.entry() once judged
    pricing: Pricing | None = None  # what the model's tokens cost (lmms_eval/pricing.py), if known

    @property
    def failed_requests(self) -> int:
        return sum(len(run.answered.failures) for run in self.task_runs.values())

    @property
    def failed_judge_calls(self) -> int:
        """Judge calls with no answer after retries: the benchmark's failure value stood in."""
        return sum(int(entry.get("failures") or 0) for entry in self.judge_entries.values())


def select_tasks(run: RunConfig) -> Selection:
    return TaskIndex.build(run.include_path).select(run.tasks)


def build_model(run: RunConfig) -> tuple[type[Model], dict[str, Any], Model, Pricing | None]:
    model_class = MODELS.get(run.model)
    model_args = run.parsed_model_args(model_class)  # typed by the constructor's annotations
    given_prices, model_args = take_prices(model_args, run.model_args_where)  # not the backend's args
    model = model_class.create(model_args, batch_size=run.batch_size, device=run.device)
    return model_class, model_args, model, pricing_for(model_class, model.identity, given_prices)


TaskDone = Callable[["Evaluation", TaskRun], None]


def evaluate(
    run: RunConfig, selection: Selection | None = None, on_task_done: TaskDone | None = None, group: ProcessGroup | None = None
) -> Evaluation:
    """Run every selected task; `on_task_done` sees each task as soon as it is scored
    (the CLI saves its results then, so a run that dies later keeps them).

    Under a launcher each process answers its shard; only rank 0 scores, so only its
    Evaluation holds task runs."""
    group = group or ProcessGroup()
    random_seed, numpy_seed, torch_seed, _fewshot_seed = run.seeds()
    _seed_everything(random_seed, numpy_seed)
    selection = selection or select_tasks(run)
    if run.limit is not None:
        logger.warning("--limit evaluates part of each task: use it for smoke tests, never for reported scores")
    judges = resolve_judges(selection.configs, run.judge_model, run.parsed_judge_args())  # before any model request
    store = ResponseStore(run.use_cache) if run.use_cache else None
    model_class, model_args, model, pricing = build_model(run)
    _seed_torch(torch_seed)
    evaluation = Evaluation(run, model_class, model_args, model.identity, selection, judges=judges, pricing=pricing)
    cache = ResponseCache(store, model_identity(run.model, model_class, model_args, model)) if store else None
    try:
        settings = _prompt_settings(run)
        # Every task's functions and metrics are resolved before the first request is sent.
        prepared = [(task, Scorer(task, predict_only=run.predict_only, reasoning_tags=run.reasoning_tags)) for task in (Task(config, settings) for config in selection.configs.values())]
        check_docs_to_evaluate([task for task, _ in prepared], run)
        judged_later = []  # judged tasks wait until the evaluated model is closed
        for position, (task, scorer) in enumerate(prepared):
            answered = answer_task(task, model, run, cache, group)
            if position == len(prepared) - 1:
                model.close()  # inference is over: free the weights before scoring (an LLM judge may need them)
            if answered is None:  # another rank scores it
                continue
            setup = judge_setup(task, scorer, evaluation, store)
            if setup is not None:
                judged_later.append((task, scorer, answered, setup))
                continue
            _score_and_record(evaluation, task, scorer, answered, None, on_task_done)
        for task, scorer, answered, setup in judged_later:
            _score_and_record(evaluation, task, scorer, answered, setup, on_task_done)
    finally:
        model.close()
        if store is not None:
            _report_unreadable(store)
            store.close()
    evaluation.group_scores = score_groups(selection, evaluation.task_runs)
    evaluation.duration = time.time() - evaluation.started_at
    return evaluation


def answer_task(
    task: Task, model: Model, run: RunConfig, cache: ResponseCache | None = None, group: ProcessGroup | None = None
) -> TaskResponses | None:
    """Ask the model about this process's shard of the task; rank 0 gets every shard's answers."""
    group = group or ProcessGroup()
    request_type = RequestType.GENERATE_UNTIL if task.config.output_type == "generate_until" else RequestType.LOGLIKELIHOOD
    if not model.supports(request_type):
        raise ModelError(f"task {task.name} is {task.config.output_type}, which model '{run.model}' cannot answer")
    docs = task.eval_docs()
    shard = DocWindow(run.offset, run.limit, group.rank, group.world_size).doc_ids(len(docs))
    builder = RequestBuilder(task, chat=model.is_chat or run.apply_chat_template)
    logger.info("%s: %d of %d docs%s", task.name, len(shard), len(docs), f" (rank {group.rank} of {group.world_size})" if group.world_size > 1 else "")
    with _progress(task, len(shard)) as progress:
        requests = cached_requests(builder, docs, shard, run.cache_requests)  # built, or from --cache_requests
        requests = refuse_unsupported_media(model, task.name, run.model, requests)
        sampling = task_video_sampling(model, task.name, task.prompt_kwargs)
        answered = run_inference(model, request_type, requests, progress, cache, video_sampling=sampling)
    if cache is not None:
        asked = len(answered.responses) - answered.from_store
        logger.info("%s: %d answers from the store, %d asked", task.name, answered.from_store, asked)
    gathered = group.gather(answered)
    return TaskResponses.merge(gathered) if gathered is not None else None


def _score_and_record(
    evaluation: Evaluation, task: Task, scorer: Scorer, answered: TaskResponses, setup: JudgeSetup | None, on_task_done: TaskDone | None
) -> None:
    docs = task.eval_docs()
    task_run = score_task(task, scorer, docs, DocWindow(evaluation.run.offset, evaluation.run.limit).doc_ids(len(docs)), answered, evaluation.run, setup)
    record_task_run(evaluation, task_run)
    if on_task_done is not None:
        on_task_done(evaluation, task_run)


def judge_setup(task: Task, scorer: Scorer, evaluation: Evaluation, store: ResponseStore | None) -> JudgeSetup | None:
    """The judge stage's setup for a task it judges: one with a judge_scoring and a judge,
    scored (never under --predict_only)."""
    if task.judge_scoring is None or scorer.predict_only or task.name not in evaluation.judges:
        return None
    from lmms_eval.judge.stage import JudgeSetup

    return JudgeSetup(evaluation.judges[task.name], store, evaluation.run.judge_repeats)


def record_task_run(evaluation: Evaluation, task_run: TaskRun) -> None:
    evaluation.task_runs[task_run.task.name] = task_run
    if task_run.judge_entry is not None:
        evaluation.judge_entries[task_run.task.name] = task_run.judge_entry


def score_task(
    task: Task, scorer: Scorer, docs: Any, doc_ids: list[int], answered: TaskResponses, run: RunConfig, judging: JudgeSetup | None = None
) -> TaskRun:
    """Filters and per-sample scores, then the judge stage (for a judged task), then
    aggregation, for one task's answers."""
    rows = _scoring_rows(task, docs, answered)
    samples = scorer.score(rows, answered, full_docs=_without_media(docs, task))
    scored = [sample for sample in samples if not sample.failures]

    def aggregate(judged: list[SampleResult]) -> dict[MetricKey, Score]:
        return aggregate_task(judged, scorer.metrics, run.bootstrap_iters, run.seeds()[0], args=task_code_args(run))

    if judging is None:
        return TaskRun(task, len(docs), doc_ids, answered, samples, scorer.metrics, aggregate(scored))
    from lmms_eval.judge.stage import judge_task

    judged = judge_task(task, scored, rows, judging, aggregate)
    return TaskRun(task, len(docs), doc_ids, answered, samples, scorer.metrics, judged.scores, judged.entry)


def task_code_args(run: RunConfig) -> argparse.Namespace:
    """The run's settings as lmms-eval's CLI namespace, for the task code that reads `args`
    (aggregation functions: `args.output_path` through generate_submission_file,
    `args.model`, `args.model_args`, `args.log_samples_suffix`, ...).

    Values are the flags as given: `output_path` is the raw --output_path, not the folder
    the results JSON goes to (compat.md 3.1); `tasks`, `model_args`, `gen_kwargs` and
    `include_path` are comma-separated strings, as lmms-eval's parser leaves them.
    """
    values = {name: getattr(run, name) for name in sorted(RunConfig.keys())}
    values["tasks"] = ",".join(run.tasks)
    values["include_path"] = ",".join(run.include_path) or None
    values["model_args"] = _as_flag_text(run.model_args)
    values["gen_kwargs"] = _as_flag_text(run.gen_kwargs)
    return argparse.Namespace(**values)


def _as_flag_text(value: str | dict[str, Any]) -> str:
    return value if isinstance(value, str) else ",".join(f"{key}={item}" for key, item in value.items())


def check_docs_to_evaluate(tasks: list[Task], run: RunConfig) -> None:
    """A task with no docs to evaluate is an error naming the task and why, raised before
    the model is asked anything (a run that evaluates nothing must not look like a pass)."""
    for task in tasks:
        docs = task.eval_docs()
        if DocWindow(run.offset, run.limit).doc_ids(len(docs)):
            continue
        split = task.config.eval_split
        where = f"task {task.name} ({task.config.source})" if task.config.source else f"task {task.name}"
        if len(docs) > 0:
            raise ConfigError(f"--offset {run.offset} is beyond the {len(docs)} docs of task {task.name}: nothing to evaluate")
        loaded = task.loaded_rows.get(split, 0)
        if loaded > 0:
            raise DatasetLoadError(f"{where}: process_docs returned no docs (from {loaded} rows of split '{split}'): nothing to evaluate")
        raise DatasetLoadError(f"{where}: split '{split}' of dataset '{task.config.dataset_path}' has no rows: nothing to evaluate")


def _report_unreadable(store: ResponseStore) -> None:
    if store.unreadable:
        logger.warning("%d stored answers in %s could not be read and were asked again", store.unreadable, store.path)


def score_groups(selection: Selection, task_runs: dict[str, TaskRun]) -> dict[str, dict[MetricKey, Score]]:
    """Groups are scored children first, so a group of groups sees its subgroups' scores."""
    known: dict[str, dict[MetricKey, Score]] = {name: run.scores for name, run in task_runs.items()}
    group_scores: dict[str, dict[MetricKey, Score]] = {}
    for node in reversed(selection.groups()):
        if node.is_tag or not node.config.aggregate_metric_list:
            continue
        group_scores[node.name] = known[node.name] = aggregate_group(node, known)
    return group_scores


def _prompt_settings(run: RunConfig) -> PromptSettings:
    return PromptSettings(
        model_name=run.model,
        num_fewshot=run.num_fewshot,
        fewshot_seed=run.seeds()[3],
        system_instruction=run.system_instruction,
        fewshot_as_multiturn=run.fewshot_as_multiturn,
        gen_kwargs_override=tuple(run.parsed_gen_kwargs().items()),
    )


def _seed_everything(random_seed: int, numpy_seed: int) -> None:
    """Task code may draw random numbers; seeding keeps such runs reproducible."""
    import numpy as np

    random.seed(random_seed)
    np.random.seed(numpy_seed)


def _seed_torch(seed: int) -> None:
    """Sampled generation on local models draws from torch's generator; nothing imports
    torch for a run whose backend does not use it."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _progress(task: Task, doc_count: int) -> Any:
    from lmms_eval.engine.progress import TaskProgress

    requests_per_doc = task.config.repeats if task.config.output_type == "generate_until" else 1
    total = doc_count * requests_per_doc if task.config.output_type != "multiple_choice" else None
    return TaskProgress(task.name, total)  # a rich line in a terminal, plain log lines elsewhere


def _without_media(docs: Any, task: Task) -> Any:
    """Scoring reads docs again; leaving image/audio/video columns out keeps that cheap
    (task code opts back in with process_results_use_image)."""
    return docs if task.config.process_results_use_image else _media_free(docs)


def _media_free(docs: Any) -> Any:
    features = getattr(docs, "features", None)
    if features is None:
        return docs
    media = [name for name, feature in features.items() if media_kind(feature) is not None]
    return docs.remove_columns(media) if media else docs


def _scoring_rows(task: Task, docs: Any, answered: TaskResponses) -> dict[int, Any]:
    """The answered docs as scoring reads them. A doc with a failed request is not scored,
    so it is read without media even when the task scores with them: its image may be the
    very thing that did not decode."""
    by_doc = answered.by_doc()
    failed = {doc_id for doc_id, responses in by_doc.items() if any(not response.ok for response in responses)}
    rows = _rows(_media_free(docs), sorted(failed))
    rows.update(_rows(_without_media(docs, task), [doc_id for doc_id in by_doc if doc_id not in failed]))
    return rows


def _rows(docs: Any, doc_ids: list[int]) -> dict[int, Any]:
    """The given docs by id, read in one pass (a Dataset row at a time is slow). Media
    columns, when kept, are decoded as a run reads them (to_list would leave them raw)."""
    if not (hasattr(docs, "select") and hasattr(docs, "to_list")):
        return {doc_id: docs[doc_id] for doc_id in doc_ids}
    subset = docs.select(doc_ids)
    if any(media_kind(feature) is not None for feature in subset.features.values()):
        return {doc_id: subset[position] for position, doc_id in enumerate(doc_ids)}
    return dict(zip(doc_ids, subset.to_list()))
