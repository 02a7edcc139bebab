"""The task and group YAML schema (lmms-eval's keys) as dataclasses."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from lmms_eval.api.reasoning import parse_reasoning_tags
from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.functions import FunctionRef

OUTPUT_TYPES = ("generate_until", "loglikelihood", "multiple_choice")

# Keys older lmms-eval task folders use under another name.
_RENAMED_KEYS = {"model_specific_prompt_kwargs": "lmms_eval_specific_kwargs"}
# Keys that are accepted so existing folders load, but change nothing here.
_IGNORED_KEYS = frozenset({"should_decontaminate", "doc_to_decontamination_query", "use_prompt", "cluster_key", "score_key"})


@dataclass
class TaskConfig:
    """One task YAML (after `include` is merged). Field names are the YAML keys."""

    task: str
    source: str = ""  # the YAML file this came from (not a YAML key)
    task_alias: str | None = None
    tag: list[str] = field(default_factory=list)
    dataset_path: str | None = None
    dataset_name: str | None = None
    dataset_kwargs: dict[str, Any] = field(default_factory=dict)
    training_split: str | None = None
    validation_split: str | None = None
    test_split: str | None = None
    fewshot_split: str | None = None
    full_docs: bool = False
    process_docs: Any = None
    doc_to_visual: Any = None
    doc_to_audio: Any = None
    doc_to_text: Any = None
    doc_to_messages: Any = None
    doc_to_target: Any = None
    doc_to_choice: Any = None
    process_results: Any = None
    process_results_use_image: bool = False
    judge_scoring: Any = None  # `!function utils.judge_scoring`: a JudgeScoring (lmms_eval/judge/scoring.py)
    description: str = ""
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    fewshot_config: dict[str, Any] = field(default_factory=dict)
    num_fewshot: int | None = None
    output_type: str = "generate_until"
    generation_kwargs: dict[str, Any] | None = None
    model_specific_generation_kwargs: dict[str, Any] = field(default_factory=dict)
    lmms_eval_specific_kwargs: dict[str, Any] = field(default_factory=dict)
    model_specific_target_kwargs: Any = None
    metric_list: list[dict[str, Any]] = field(default_factory=list)
    filter_list: list[dict[str, Any]] = field(default_factory=list)
    repeats: int = 1
    metadata: dict[str, Any] = field(default_factory=dict)
    # None: the run's --reasoning_tags; `none` (parsed to ()) turns stripping off for this task
    reasoning_tags: Any = None
    auto_strip_thinking: bool = False

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "") -> TaskConfig:
        values = {_RENAMED_KEYS.get(key, key): value for key, value in raw.items() if key not in _IGNORED_KEYS}
        # A list or dict key left empty (`metric_list:`) means its default, not None.
        values = {key: value for key, value in values.items() if value is not None or key not in _COLLECTION_KEYS}
        if "group" in values:  # `group` inside a task file is the old spelling of `tag`
            values["tag"] = _as_list(values.pop("tag", None)) + _as_list(values.pop("group"))
        values.pop("group_alias", None)
        known = {f.name for f in fields(cls)} - {"source"}
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise TaskConfigError(f"unknown key{hint}", path=source, key=key)
        if not isinstance(values.get("task"), str):
            raise TaskConfigError("a task needs a string 'task' name", path=source, key="task")
        values["tag"] = _as_list(values.get("tag"))
        config = cls(source=source, **values)
        config.validate()
        return config

    def validate(self) -> None:
        if self.output_type not in OUTPUT_TYPES:
            raise TaskConfigError(
                f"output_type '{self.output_type}' is not one of {', '.join(OUTPUT_TYPES)}", path=self.source, key="output_type"
            )
        if self.output_type == "multiple_choice" and self.doc_to_choice is None:
            raise TaskConfigError("multiple_choice tasks need doc_to_choice", path=self.source, key="doc_to_choice")
        if not (self.test_split or self.validation_split):
            raise TaskConfigError("set test_split or validation_split", path=self.source, key="test_split")
        if self.dataset_path is None:
            raise TaskConfigError("dataset_path is required", path=self.source, key="dataset_path")
        if self.doc_to_text is None and self.doc_to_messages is None:
            raise TaskConfigError("set doc_to_text or doc_to_messages", path=self.source, key="doc_to_text")
        for index, entry in enumerate(self.metric_list):
            if not isinstance(entry, dict) or "metric" not in entry:
                raise TaskConfigError(f"entry {index} needs a 'metric'", path=self.source, key="metric_list")
        for index, entry in enumerate(self.filter_list):
            if not isinstance(entry, dict) or "name" not in entry or not isinstance(entry.get("filter"), list):
                raise TaskConfigError(f"entry {index} needs 'name' and a 'filter' list", path=self.source, key="filter_list")
        self.metadata = _metadata_mapping(self.metadata, self.source)
        if self.judge_scoring is not None and not self.metadata.get("gpt_eval_model_name"):
            # The judge stage runs for tasks that need a judge, and a task needs one exactly when it names its default.
            raise TaskConfigError("a judged task names its default judge model in metadata.gpt_eval_model_name", path=self.source, key="judge_scoring")
        not_names = [tag for tag in self.tag if not isinstance(tag, str)]
        if not_names:
            raise TaskConfigError(f"tags (and a task file's `group`) must be names, not {not_names[0]!r}", path=self.source, key="tag")
        if self.reasoning_tags is not None:
            try:
                self.reasoning_tags = parse_reasoning_tags(self.reasoning_tags, "the value")
            except ValueError as error:
                raise TaskConfigError(str(error), path=self.source, key="reasoning_tags") from None

    def _fields(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it would take FunctionRefs apart into plain dicts.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def eval_split(self) -> str:
        return self.test_split or self.validation_split  # type: ignore[return-value]

    @property
    def version(self) -> Any:
        return self.metadata.get("version") if isinstance(self.metadata, dict) else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the results file (functions shown as `!function name`)."""
        return _json_safe({k: v for k, v in self._fields().items() if k != "source"})

    def prompt_hash(self) -> str:
        """A hash of every key that changes what a model is asked (part of request keys)."""
        scoring_only = {"metric_list", "filter_list", "process_results", "process_results_use_image", "judge_scoring", "task_alias", "tag", "source"}
        # metadata (version, judge model, ...) never reaches a prompt: a new version or judge
        # must not orphan stored answers.
        relevant = {k: v for k, v in self._fields().items() if k not in scoring_only and k != "metadata"}
        return hashlib.sha256(json.dumps(_json_safe(relevant), sort_keys=True).encode()).hexdigest()[:16]


_COLLECTION_KEYS = frozenset(f.name for f in fields(TaskConfig) if f.default_factory is not MISSING)


@dataclass(frozen=True)
class AggregateMetric:
    metric: str
    aggregation: str = "mean"
    weight_by_size: bool = True
    filter_list: tuple[str, ...] = ("none",)


@dataclass
class GroupConfig:
    """A group YAML: a named set of tasks (or groups), optionally with combined scores."""

    group: str
    task: list[Any]
    source: str = ""
    group_alias: str | None = None
    aggregate_metric_list: list[AggregateMetric] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "") -> GroupConfig:
        known = {"group", "task", "group_alias", "aggregate_metric_list", "metadata", "tag"}
        for key in raw:
            if key not in known:
                raise TaskConfigError("unknown key in a group file", path=source, key=key)
        if not isinstance(raw.get("task"), list) or not raw["task"]:
            raise TaskConfigError("a group needs a non-empty 'task' list", path=source, key="task")
        aggregates = []
        for entry in _as_list(raw.get("aggregate_metric_list")):
            if not isinstance(entry, dict) or "metric" not in entry:
                raise TaskConfigError("each entry needs a 'metric'", path=source, key="aggregate_metric_list")
            if entry.get("aggregation", "mean") != "mean":
                raise TaskConfigError("only 'mean' aggregation is supported for groups", path=source, key="aggregate_metric_list")
            aggregates.append(
                AggregateMetric(
                    metric=entry["metric"],
                    weight_by_size=bool(entry.get("weight_by_size", True)),
                    filter_list=tuple(_as_list(entry.get("filter_list", "none"))),
                )
            )
        return cls(
            group=str(raw["group"]),
            task=list(raw["task"]),
            source=source,
            group_alias=raw.get("group_alias"),
            aggregate_metric_list=aggregates,
            metadata=raw.get("metadata") or {},
        )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, FunctionRef):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if callable(value):  # a function set from Python: its name, never its memory address
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__name__)}"
    return repr(value)


def _metadata_mapping(metadata: Any, source: str) -> dict[str, Any]:
    """lmms-eval task files write `metadata` as a mapping or as a list of one-key mappings
    (`- version: 0.0`); both become one mapping, later entries winning."""
    if isinstance(metadata, dict):
        return metadata
    if isinstance(metadata, list) and all(isinstance(entry, dict) for entry in metadata):
        merged: dict[str, Any] = {}
        for entry in metadata:
            merged.update(entry)
        return merged
    raise TaskConfigError(f"must be a mapping (or a list of mappings), not {metadata!r}", path=source, key="metadata")
