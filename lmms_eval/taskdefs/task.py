"""A task at run time: its documents, and what each document asks and expects."""

from __future__ import annotations

import inspect
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.errors import DocumentError, TaskConfigError
from lmms_eval.generation import validate_generation_kwargs
from lmms_eval.taskdefs.config import TaskConfig
from lmms_eval.taskdefs.dataset import load_splits, split_of
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.rendering import BadDocInput, FewshotExample, RenderedDoc, decode_message, read_doc
from lmms_eval.taskdefs.templates import NullField, SecondArgument, choices_function, doc_function, target_function

DEFAULT_STOP = ["\n\n"]
logger = logging.getLogger(__name__)
# Keys existing task folders set that this version reads but does not act on yet.
_NOT_YET_USED = {"doc_to_audio": "audio inputs come with the audio backends"}
# Keys whose task code loads media: a file it cannot read or decode is bad input of that
# doc (recorded, not scored), not a bug in the task.
_MEDIA_KEYS = frozenset({"doc_to_visual", "doc_to_messages"})


@dataclass(frozen=True)
class PromptSettings:
    """Run-wide choices that shape prompts (from the CLI, not the YAML)."""

    model_name: str = ""
    num_fewshot: int | None = None
    fewshot_seed: int = 1234
    system_instruction: str | None = None
    fewshot_as_multiturn: bool = False
    gen_kwargs_override: tuple[tuple[str, Any], ...] = ()


class Task:
    """Builds from a `TaskConfig`; functions are resolved here, data loads on first use."""

    def __init__(self, config: TaskConfig, settings: PromptSettings):
        self.config = config
        self.settings = settings
        self.name = config.task
        self.prompt_kwargs = resolve_prompt_kwargs(config.lmms_eval_specific_kwargs, settings.model_name)
        target_kwargs = _entry_for_model(config.model_specific_target_kwargs, settings.model_name)
        source = config.source
        self._doc_to_text = doc_function(config.doc_to_text, "doc_to_text", self.prompt_kwargs, source=source, refuse_none=True)
        self._doc_to_visual = doc_function(
            config.doc_to_visual, "doc_to_visual", self.prompt_kwargs, source=source, second=SecondArgument.IF_TWO_PARAMETERS
        )
        self._doc_to_messages = doc_function(
            config.doc_to_messages, "doc_to_messages", self.prompt_kwargs, source=source, second=SecondArgument.KEYWORD_OR_TWO
        )
        self._doc_to_target = target_function(
            config.doc_to_target, "doc_to_target", target_kwargs, source=source, has_choices=config.doc_to_choice is not None
        )
        self._doc_to_choice = choices_function(config.doc_to_choice, source=source)
        # fewshot_config may give the examples their own prompt and answer, as in lmms-eval
        # (MMLU-Pro's examples carry a worked solution while the gold stays a letter).
        shots = config.fewshot_config
        self._example_text = (
            doc_function(shots["doc_to_text"], "fewshot_config.doc_to_text", self.prompt_kwargs, source=source, refuse_none=True)
            if shots.get("doc_to_text") is not None
            else self._doc_to_text
        )
        self._example_target = (
            target_function(shots["doc_to_target"], "fewshot_config.doc_to_target", target_kwargs, source=source, has_choices=False)
            if shots.get("doc_to_target") is not None
            else None
        )
        # Not doc functions: process_results takes (doc, results), process_docs a dataset.
        self.process_results = _plain_function(config, "process_results")
        self._results_take_full_docs = config.full_docs and _takes_keyword(self.process_results, "full_docs")
        self._process_docs = _plain_function(config, "process_docs")
        self.judge_scoring = _judge_scoring(config)
        self.num_fewshot = settings.num_fewshot if settings.num_fewshot is not None else (config.num_fewshot or 0)
        self.generation_kwargs = self._generation_kwargs()
        self._splits: Any = None
        self._processed: dict[str, Any] = {}
        self.loaded_rows: dict[str, int] = {}  # rows per split before process_docs (to explain an empty task)
        for key, reason in _NOT_YET_USED.items():
            if getattr(config, key):
                logger.warning("task %s: %s is accepted but not used yet (%s)", self.name, key, reason)

    # --- documents --------------------------------------------------------------------

    def eval_docs(self) -> Any:
        """The evaluated split, after process_docs (a `datasets.Dataset` or a list)."""
        return self.split(self.config.eval_split)

    def split(self, name: str) -> Any:
        """One split of the task's dataset, after process_docs (which runs once per split)."""
        if name not in self._processed:
            if self._splits is None:
                self._splits = load_splits(self.config)
            docs = split_of(self._splits, name, self.config)
            self.loaded_rows[name] = len(docs)
            if self._process_docs is not None:
                docs = self.call("process_docs", self._process_docs, docs, doc_id=None)
            self._processed[name] = docs
        return self._processed[name]

    def fewshot_examples(self, doc_id: int) -> list[dict[str, Any]]:
        """`num_fewshot` example docs for one doc, chosen from a seed and the doc id alone,
        so the choice is the same on every rank and at every batch size."""
        if self.num_fewshot <= 0:
            return []
        pool = self._fewshot_pool()
        same_split = self._fewshot_split_name() == self.config.eval_split
        # Positions among the candidates: the pool without the doc itself (when it is in it).
        # A range, not a list, so a large split costs nothing per doc.
        skip = doc_id if same_split and 0 <= doc_id < len(pool) else None
        candidate_count = len(pool) - (skip is not None)
        if candidate_count < self.num_fewshot:
            raise TaskConfigError(
                f"task {self.name}: {self.num_fewshot}-shot needs {self.num_fewshot} examples, the split has {candidate_count}",
                path=self.config.source,
                key="num_fewshot",
            )
        if self.config.fewshot_config.get("sampler", "default") == "first_n":
            positions = list(range(self.num_fewshot))
        else:
            positions = random.Random(f"{self.settings.fewshot_seed}:{self.name}:{doc_id}").sample(range(candidate_count), self.num_fewshot)
        chosen = [position + 1 if skip is not None and position >= skip else position for position in positions]
        return [read_doc(pool, i, f"few-shot example {i}: ") for i in chosen]

    def _fewshot_split_name(self) -> str:
        config = self.config
        name = config.fewshot_split or config.training_split or (config.validation_split if config.test_split else None)
        if name is None:
            raise TaskConfigError(
                f"task {self.name}: few-shot needs fewshot_split or training_split", path=config.source, key="num_fewshot"
            )
        return name

    def _fewshot_pool(self) -> Any:
        return self.split(self._fewshot_split_name())

    # --- what a doc asks and expects ------------------------------------------------------

    def render(self, doc_id: int, doc: dict[str, Any], chat: bool) -> RenderedDoc:
        """Everything one doc asks, from one pass over the task's functions.

        A chat model gets the task's own doc_to_messages when there are no few-shot
        examples; otherwise the prompt is doc_to_text (or, without it, the messages'
        text) with doc_to_visual's media. Raises `BadDocInput` when the doc's media cannot
        be read, `DocumentError` when task code fails on it.
        """
        examples_docs = self.fewshot_examples(doc_id)
        raw_messages = self.raw_messages(doc, doc_id)
        text: str | None = None
        visuals: tuple[Any, ...] = ()
        messages = None
        if chat and raw_messages is not None and not examples_docs:
            messages = _parse_messages(raw_messages, self.name, doc_id)
        elif raw_messages is not None and self.config.doc_to_text is None:
            parsed = _parse_messages(raw_messages, self.name, doc_id)
            text, visuals = _flatten(parsed), tuple(parsed.media())
        else:
            text, visuals = self.text(doc, doc_id), tuple(self.visuals(doc, doc_id))
        examples = tuple(FewshotExample(self._example_prompt(example), self._example_answer(example)) for example in examples_docs)
        output_type = self.config.output_type
        return RenderedDoc(
            doc_id=doc_id,
            text=text,
            visuals=visuals,
            messages=messages,
            examples=examples,
            target_text=self.target_text(doc, doc_id) if output_type == "loglikelihood" else None,
            choices=tuple(self.choices(doc, doc_id)) if output_type == "multiple_choice" else (),
        )

    def text(self, doc: dict[str, Any], doc_id: int | None) -> str:
        if self._doc_to_text is None:
            raise TaskConfigError(f"task {self.name} has no doc_to_text", path=self.config.source, key="doc_to_text")
        text = self.call("doc_to_text", self._doc_to_text, doc, doc_id=doc_id)
        if text is None:  # str() would ask the model about the word "None"
            column = self.config.doc_to_text if isinstance(self.config.doc_to_text, str) and self.config.doc_to_text in doc else None
            what = f"field '{column}' is null or missing" if column else "doc_to_text returned None"
            raise DocumentError(f"task {self.name} {_where(doc_id)}: {what}, so there is no prompt")
        return str(text)

    def visuals(self, doc: dict[str, Any], doc_id: int) -> list[Any]:
        if self._doc_to_visual is None:
            return []
        visuals = self.call("doc_to_visual", self._doc_to_visual, doc, doc_id=doc_id)
        if visuals is None:
            return []
        return list(visuals) if isinstance(visuals, (list, tuple)) else [visuals]

    def raw_messages(self, doc: dict[str, Any], doc_id: int) -> list[dict[str, Any]] | None:
        if self._doc_to_messages is None:
            return None
        return self.call("doc_to_messages", self._doc_to_messages, doc, doc_id=doc_id)

    def target(self, doc: dict[str, Any], doc_id: int | None) -> Any:
        if self._doc_to_target is None:
            return None
        target = self.call("doc_to_target", self._doc_to_target, doc, doc_id=doc_id)
        # isdecimal, not isdigit: "²" is a digit that int() rejects.
        if self._doc_to_choice is not None and isinstance(target, str) and target.strip().isdecimal():
            return int(target.strip())
        return target

    def choices(self, doc: dict[str, Any], doc_id: int | None) -> list[str]:
        if self._doc_to_choice is None:
            raise TaskConfigError(f"task {self.name} has no doc_to_choice", path=self.config.source, key="doc_to_choice")
        choices = self.call("doc_to_choice", self._doc_to_choice, doc, doc_id=doc_id)
        if isinstance(choices, dict):  # lmms-eval takes a mapping's values
            choices = list(choices.values())
        if not isinstance(choices, (list, tuple)) or not choices:
            raise DocumentError(f"task {self.name} doc {doc_id}: doc_to_choice gave {choices!r}, not a list of choices")
        return [str(choice) for choice in choices]

    def _example_prompt(self, example: dict[str, Any]) -> str:
        if self._example_text is self._doc_to_text:
            return self.text(example, None)
        return str(self.call("fewshot_config.doc_to_text", self._example_text, example, doc_id=None))

    def _example_answer(self, example: dict[str, Any]) -> str:
        if self._example_target is None:
            return self.target_text(example, None)
        return str(self.call("fewshot_config.doc_to_target", self._example_target, example, doc_id=None))

    def target_text(self, doc: dict[str, Any], doc_id: int | None) -> str:
        """The gold answer as text (for few-shot examples)."""
        target = self.target(doc, doc_id)
        if isinstance(target, list):
            target = target[0]
        if isinstance(target, int) and self._doc_to_choice is not None:
            return self.choices(doc, doc_id)[target]
        return str(target)

    def gold_indices(self, doc: dict[str, Any], doc_id: int, choices: list[str]) -> list[int]:
        """For multiple choice: the index (or indices) of the right choice."""
        target = self.target(doc, doc_id)
        golds = target if isinstance(target, list) else [target]
        indices = []
        for gold in golds:
            if isinstance(gold, int):
                indices.append(gold)
            elif str(gold) in choices:
                indices.append(choices.index(str(gold)))
            else:
                raise DocumentError(f"task {self.name} doc {doc_id}: target {gold!r} is neither an index nor one of the choices")
        return indices

    def results_of(self, doc: dict[str, Any], results: list[Any], doc_id: int, full_docs: Any = None) -> Any:
        """process_results(doc, results), and `full_docs=` (every evaluated doc) when the
        YAML sets `full_docs: true` and the function takes it. lmms-eval 0.7.3 never passes
        it, leaving such functions their `full_docs=None` default; passing it gives them
        what the key asks for."""
        if self.process_results is None:
            raise TaskConfigError(f"task {self.name} has no process_results", path=self.config.source, key="process_results")
        if self._results_take_full_docs:
            return self.call("process_results", self.process_results, doc, results, doc_id=doc_id, full_docs=full_docs)
        return self.call("process_results", self.process_results, doc, results, doc_id=doc_id)

    def call(self, key: str, function: Callable[..., Any], *args: Any, doc_id: int | None, **kwargs: Any) -> Any:
        """Run task code; a failure names the task, the key and the doc."""
        try:
            return function(*args, **kwargs)
        except (DocumentError, TaskConfigError, BadDocInput):
            raise
        except NullField as error:
            raise DocumentError(f"task {self.name} {_where(doc_id)}: {key}: {error}, so the template would print None") from None
        except OSError as error:
            if key in _MEDIA_KEYS and doc_id is not None:
                raise BadDocInput(f"{key} cannot read its media: {decode_message(error)}") from error
            raise DocumentError(f"task {self.name} {_where(doc_id)}: {key} raised {type(error).__name__}: {error}") from error
        except Exception as error:
            missing = _missing_field(error, args[0] if args else None)
            if missing is not None:
                raise DocumentError(f"task {self.name} {_where(doc_id)}: {key} needs field {missing}; {_fields_of(args[0])}") from error
            raise DocumentError(f"task {self.name} {_where(doc_id)}: {key} raised {type(error).__name__}: {error}") from error

    # --- generation settings ----------------------------------------------------------------

    def _generation_kwargs(self) -> dict[str, Any]:
        """lmms-eval's defaults: no kwargs at all means greedy up to a blank line; kwargs
        without `until` get the blank-line stop added. Then per-model and CLI overrides."""
        configured = self.config.generation_kwargs
        kwargs = {"until": list(DEFAULT_STOP), "do_sample": False} if configured is None else dict(configured)
        kwargs.setdefault("until", list(DEFAULT_STOP))
        model_overrides = _entry_for_model(self.config.model_specific_generation_kwargs, self.settings.model_name)
        if isinstance(model_overrides, dict):
            kwargs.update(model_overrides)
        kwargs.update(dict(self.settings.gen_kwargs_override))
        # After the overrides too: `--gen_kwargs until=###` gives a string, and backends
        # iterate `until` as a list of stops (a string would stop at every character).
        if isinstance(kwargs["until"], str):
            kwargs["until"] = [kwargs["until"]]
        validate_generation_kwargs(kwargs, f"{self.config.source or 'task ' + self.name}, key 'generation_kwargs'")
        return kwargs


def _plain_function(config: TaskConfig, key: str) -> Callable[..., Any] | None:
    """A `!function` (or callable) used as is, without the doc-function argument wrapping."""
    value = getattr(config, key)
    if value is None or callable(value):
        return value
    if isinstance(value, FunctionRef):
        return value.resolve(key)
    raise TaskConfigError(f"expected '!function module.name', found {value!r}", path=config.source, key=key)


def _judge_scoring(config: TaskConfig) -> Any:
    """The task's JudgeScoring: `!function` names an object here, not a function."""
    from lmms_eval.judge.scoring import JudgeScoring

    value = config.judge_scoring
    if isinstance(value, FunctionRef):
        value = value.resolve("judge_scoring")
    if value is None or isinstance(value, JudgeScoring):
        return value
    raise TaskConfigError(
        f"must name a JudgeScoring (lmms_eval/judge/scoring.py), found {type(value).__name__}", path=config.source, key="judge_scoring"
    )


def _missing_field(error: Exception, doc: Any) -> str | None:
    """The field name, when task code failed because the doc lacks it (the dataset's schema
    differs from what the task was written for)."""
    if isinstance(error, KeyError) and isinstance(doc, dict) and error.args and error.args[0] not in doc:
        return repr(error.args[0])
    from jinja2.exceptions import UndefinedError

    # A template's missing variable: jinja2 words it "'name' is undefined".
    if isinstance(error, UndefinedError) and isinstance(doc, dict) and str(error).endswith(" is undefined"):
        return str(error).removesuffix(" is undefined")
    return None


def _fields_of(doc: dict[str, Any]) -> str:
    return "the doc has: " + (", ".join(sorted(map(str, doc))) or "no fields")


def _entry_for_model(per_model: Any, model_name: str) -> Any:
    """model_specific_target_kwargs / _generation_kwargs: the entry named after the model,
    else `default`; never a merge."""
    if not isinstance(per_model, dict):
        return per_model
    return per_model.get(model_name, per_model.get("default"))


def resolve_prompt_kwargs(per_model: Any, model_name: str) -> Any:
    """lmms_eval_specific_kwargs as lmms-eval resolves them (compat.md 4.4).

    The model's own entry is used alone. Otherwise the whole mapping is kept and updated
    with the `default` entry's keys (else the `dataset` entry's), so task code sees e.g.
    `{"default": {...}, "gpt4v": {...}, "pre_prompt": ..., "post_prompt": ...}`. None when
    the task sets none (an empty mapping counts as none): functions then get only the doc.
    """
    if not isinstance(per_model, dict):
        return per_model
    if not per_model:
        return None
    if model_name in per_model:
        return per_model[model_name]
    for fallback in ("default", "dataset"):
        if isinstance(per_model.get(fallback), dict):
            return {**per_model, **per_model[fallback]}
    return dict(per_model)


def _where(doc_id: int | None) -> str:
    return f"doc {doc_id}" if doc_id is not None else "the dataset"


def _takes_keyword(function: Callable[..., Any] | None, name: str) -> bool:
    if function is None:
        return False
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name and p.kind is not p.POSITIONAL_ONLY or p.kind is p.VAR_KEYWORD for p in parameters)


def _parse_messages(raw: Any, task: str, doc_id: int) -> ChatMessages:
    try:
        return ChatMessages.from_dicts(raw)
    except (KeyError, TypeError, ValueError) as error:
        raise DocumentError(f"task {task} doc {doc_id}: doc_to_messages returned malformed messages ({error})") from error


def _flatten(messages: ChatMessages) -> str:
    return "\n".join(message.text for message in messages if message.text)
