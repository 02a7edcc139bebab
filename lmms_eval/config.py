"""RunConfig: one evaluation's settings. Defaults < --config YAML < explicit flags.

This is the one boundary where user input becomes typed configuration: every field is
checked (and text converted) here, each error naming the flag or the --config file and
key, so that nothing downstream parses strings or meets a value of the wrong type.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from lmms_eval.errors import ConfigError
from lmms_eval.api.reasoning import DEFAULT_REASONING_TAGS, parse_reasoning_tags
from lmms_eval.generation import validate_generation_kwargs

DEFAULT_SEEDS = (0, 1234, 1234, 1234)  # python random, numpy, torch, few-shot sampling
MAX_SEED = 2**32 - 1  # numpy's seeds are 32-bit


@dataclass
class RunConfig:
    model: str = "openai"
    model_args: str | dict[str, Any] = ""  # a dict once validated: values as typed, or the text given
    tasks: list[str] = field(default_factory=list)
    include_path: list[str] = field(default_factory=list)
    limit: float | None = None
    offset: int = 0
    batch_size: int = 1
    device: str | None = None
    gen_kwargs: str | dict[str, Any] = ""  # a dict once validated
    num_fewshot: int | None = None
    apply_chat_template: bool = False
    fewshot_as_multiturn: bool = False
    system_instruction: str | None = None
    output_path: str | None = None
    log_samples: bool = False
    log_samples_suffix: str = "model_outputs"
    predict_only: bool = False
    seed: str | int | list[int] = "0,1234,1234,1234"  # four ints once validated
    bootstrap_iters: int = 100000
    verbosity: str = "INFO"
    show_config: bool = False
    use_cache: str | None = None
    judge_model: str | None = None  # registered backend that judges open-ended answers (docs/judges.md)
    judge_args: str | dict[str, Any] = ""  # a dict once validated, like model_args
    judge_repeats: int = 1  # each judge question asked this many times (MM-Vet's protocol: 5)
    # lmms-eval's flag: reasoning blocks stripped from answers after the filters, before scoring
    reasoning_tags: str | tuple[tuple[str, str], ...] = DEFAULT_REASONING_TAGS
    # Tracking and sharing (docs/output.md): W&B run settings and the HF Hub push, as k=v.
    wandb_args: str | dict[str, Any] = ""  # a dict once validated
    wandb_log_samples: bool = False
    hf_hub_log_args: str | dict[str, Any] = ""  # a dict once validated
    cache_requests: str | None = None  # "true", "refresh" or "delete" (engine/request_cache.py)

    #: Where model_args came from, for the errors found when the backend's types are known.
    model_args_where: ClassVar[str] = "--model_args"

    @classmethod
    def keys(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def from_layers(cls, file_values: dict[str, Any], flag_values: dict[str, Any], file_label: str = "--config") -> RunConfig:
        unknown = sorted(str(key) for key in set(file_values) - cls.keys())
        if unknown:
            raise ConfigError(f"{file_label}: unknown key(s) {', '.join(unknown)}")
        from_file = check_fields(file_values, lambda key: f"{file_label}: key '{key}'")
        from_flags = check_fields(flag_values, lambda key: f"--{key}")
        config = cls(**{**from_file, **from_flags})
        if "model_args" in from_file and "model_args" not in from_flags:
            config.model_args_where = f"{file_label}: key 'model_args'"
        config.validate()
        return config

    def validate(self) -> None:
        """Every field typed and in range (idempotent), then the checks across fields."""
        for name, value in check_fields({f.name: getattr(self, f.name) for f in fields(self)}, lambda key: f"--{key}").items():
            setattr(self, name, value)
        if not self.tasks:
            raise ConfigError("no tasks given: pass --tasks NAME[,NAME...] (or --tasks list to see them)")
        if self.fewshot_as_multiturn and not self.apply_chat_template:
            raise ConfigError("--fewshot_as_multiturn needs --apply_chat_template")
        if self.predict_only:
            self.log_samples = True
        if self.log_samples and not self.output_path:
            raise ConfigError("--log_samples (and --predict_only) need --output_path")
        if self.wandb_log_samples and not self.wandb_args:
            raise ConfigError("--wandb_log_samples needs --wandb_args (project=...,name=...,mode=...)")

    def seeds(self) -> tuple[int, int, int, int]:
        """--seed: one int for all four seeds, or four comma-separated values."""
        return tuple(check_seed(self.seed, "--seed"))  # type: ignore[return-value]

    def parsed_model_args(self, model_class: type | None = None) -> dict[str, Any]:
        """The model args, typed by the backend constructor's annotations when it is given
        (`num_concurrent=abc` is then an error naming --model_args and the key)."""
        raw = check_model_args(self.model_args, self.model_args_where)
        if model_class is None:
            return {key: parse_scalar(value) if isinstance(value, str) else value for key, value in raw.items()}
        return typed_model_args(model_class, raw, self.model_args_where)

    def parsed_judge_args(self) -> dict[str, Any]:
        """The judge's backend args, typed as they look (the backend types them again when built)."""
        raw = check_model_args(self.judge_args, "--judge_args")
        return {key: parse_scalar(value) if isinstance(value, str) else value for key, value in raw.items()}

    def parsed_gen_kwargs(self) -> dict[str, Any]:
        return check_gen_kwargs(self.gen_kwargs, "--gen_kwargs")

    def output_dir(self) -> Path | None:
        return Path(self.output_path) if self.output_path else None


# --- one checker per kind of field -----------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value: Any, where: str, minimum: int | None = None) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigError(f"{where} must be an int, not {value!r}") from None
    if not _is_int(value):
        raise ConfigError(f"{where} must be an int, not {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where} must be at least {minimum}, not {value}")
    return value


def check_limit(value: Any, where: str) -> int | float | None:
    """A count of docs (int >= 1) or a fraction below 1: finite and positive."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(f"{where} must be a count of docs or a fraction below 1, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where} must be a positive count of docs or a fraction below 1, not {value!r}")
    if value >= 1 and not float(value).is_integer():
        raise ConfigError(f"{where} must be a whole count of docs, or a fraction below 1, not {value!r}")
    return int(value) if value >= 1 else float(value)


def check_seed(value: Any, where: str) -> list[int]:
    """One int for all four seeds, or four (comma-separated text or a list)."""
    if isinstance(value, str):
        values: list[Any] = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        values = list(value)
    else:
        values = [value]
    if len(values) not in (1, 4):
        raise ConfigError(f"{where} takes one or four values, not {len(values)}")
    seeds = [_one_seed(item, where) for item in values]
    return seeds * 4 if len(seeds) == 1 else seeds


def _one_seed(value: Any, where: str) -> int:
    try:
        seed = check_int(value, where)
    except ConfigError:
        raise ConfigError(f"{where} must be an int or four comma-separated ints, not {value!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{where}: seeds must be between 0 and {MAX_SEED}, not {seed}")
    return seed


def check_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def check_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be text, not {value!r}")
    return value


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    return lambda value, where: None if value is None else check(value, where)


def check_names(value: Any, where: str) -> list[str]:
    """Comma-separated text, or a list of names."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(name, str) for name in value):
        return [name.strip() for name in value if name.strip()]
    raise ConfigError(f"{where} must be comma-separated names or a list of names, not {value!r}")


def check_paths(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(path, str) for path in value):
        return list(value)
    raise ConfigError(f"{where} must be a folder, or a list of folders, not {value!r}")


def check_verbosity(value: Any, where: str) -> str:
    levels = ("DEBUG", "INFO", "WARNING", "ERROR")
    if not isinstance(value, str) or value.upper() not in levels:
        raise ConfigError(f"{where} must be one of {', '.join(levels)}, not {value!r}")
    return value.upper()


_SCALARS = (str, int, float, bool, type(None))


def check_model_args(value: Any, where: str) -> dict[str, Any]:
    """`k=v,k=v` text (values kept as text until the backend's types are known) or a mapping of scalars."""
    if isinstance(value, str):
        return split_key_values(value, where)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip():
                raise ConfigError(f"{where}: argument names must be text, not {key!r}")
            if not isinstance(item, _SCALARS) and not _is_text_list(item):
                raise ConfigError(f"{where}: {key} must be a single value or a list of text, not {item!r}")
        return dict(value)
    raise ConfigError(f"{where} must be k=v,k=v text or a mapping, not {value!r}")


def _is_text_list(value: Any) -> bool:
    """A list of text, such as `base_urls` (docs/scaling.md)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


CACHE_REQUESTS_MODES = ("true", "refresh", "delete")


def check_cache_requests(value: Any, where: str) -> str | None:
    """lmms-eval's modes; a YAML boolean reads as true (or off)."""
    if isinstance(value, bool):
        return "true" if value else None
    if isinstance(value, str) and value.strip().lower() in CACHE_REQUESTS_MODES:
        return value.strip().lower()
    raise ConfigError(f"{where} must be one of {', '.join(CACHE_REQUESTS_MODES)}, not {value!r}")


def check_reasoning_tags(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    try:
        return parse_reasoning_tags(value, where)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def check_gen_kwargs(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):
        parsed = parse_key_values(value, where)
    elif isinstance(value, dict):
        parsed = dict(value)
    else:
        raise ConfigError(f"{where} must be k=v,k=v text or a mapping, not {value!r}")
    validate_generation_kwargs(parsed, where)
    return parsed


_FIELD_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "model": check_text,
    "model_args": check_model_args,
    "tasks": check_names,
    "include_path": check_paths,
    "limit": check_limit,
    "offset": lambda value, where: check_int(value, where, minimum=0),
    "batch_size": lambda value, where: check_int(value, where, minimum=1),
    "device": _optional(check_text),
    "gen_kwargs": check_gen_kwargs,
    "num_fewshot": _optional(lambda value, where: check_int(value, where, minimum=0)),
    "apply_chat_template": check_bool,
    "fewshot_as_multiturn": check_bool,
    "system_instruction": _optional(check_text),
    "output_path": _optional(check_text),
    "log_samples": check_bool,
    "log_samples_suffix": check_text,
    "predict_only": check_bool,
    "seed": check_seed,
    "bootstrap_iters": lambda value, where: check_int(value, where, minimum=0),
    "verbosity": check_verbosity,
    "show_config": check_bool,
    "use_cache": _optional(check_text),
    "judge_model": _optional(check_text),
    "judge_args": check_model_args,
    "judge_repeats": lambda value, where: check_int(value, where, minimum=1),
    "reasoning_tags": check_reasoning_tags,
    "wandb_args": check_model_args,
    "wandb_log_samples": check_bool,
    "hf_hub_log_args": check_model_args,
    "cache_requests": _optional(check_cache_requests),
}


def check_fields(values: dict[str, Any], where: Callable[[str], str]) -> dict[str, Any]:
    """Each value checked and typed by its field's checker."""
    return {key: _FIELD_CHECKS[key](value, where(key)) for key, value in values.items()}


# --- key=value text ------------------------------------------------------------------------


def split_key_values(raw: str, flag: str) -> dict[str, str]:
    """`k=v,k=v` with the values kept as text."""
    parsed: dict[str, str] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"{flag}: '{item}' is not key=value")
        parsed[key.strip()] = value.strip()
    return parsed


def parse_key_values(raw: str | dict[str, Any] | None, flag: str) -> dict[str, Any]:
    """`k=v,k=v` with values typed as bool, int, float or None where they look like one."""
    if isinstance(raw, dict):
        return dict(raw)
    return {key: parse_scalar(value) for key, value in split_key_values(raw or "", flag).items()}


def parse_scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


# --- model args typed by the backend's constructor ----------------------------------------------


def typed_model_args(model_class: type, raw: dict[str, Any], where: str = "--model_args") -> dict[str, Any]:
    """Each value converted to (or checked against) the type its constructor parameter
    declares; a name the constructor does not declare is typed as it looks."""
    hints = constructor_hints(model_class)
    return {key: _typed_arg(value, hints.get(key, Any), f"{where}: {key}") for key, value in raw.items()}


def constructor_hints(model_class: type) -> dict[str, Any]:
    """Parameter name -> annotation over the class's __init__ chain (subclasses win)."""
    hints: dict[str, Any] = {}
    for klass in reversed(model_class.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None or not inspect.isfunction(init):
            continue
        try:
            resolved = typing.get_type_hints(init)
        except Exception:  # noqa: BLE001 - an annotation that does not resolve is simply not checked
            resolved = {}
        for name, parameter in inspect.signature(init).parameters.items():
            if name != "self" and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                hints[name] = resolved.get(name, Any)
    return hints


_TYPE_WORDS = {str: "text", int: "an int", float: "a number", bool: "true or false", type(None): "none"}


def _typed_arg(value: Any, annotation: Any, where: str) -> Any:
    allowed = _union_members(annotation)
    if not allowed or any(kind not in _TYPE_WORDS for kind in allowed):
        return parse_scalar(value) if isinstance(value, str) else value  # Any, or a type not checked here
    for kind in (type(None), bool, int, float, str):  # the narrowest reading first
        if kind in allowed:
            converted = _convert(value, kind)
            if converted is not _NO:
                return converted
    wanted = " or ".join(_TYPE_WORDS[kind] for kind in allowed)
    raise ConfigError(f"{where} must be {wanted}, not {value!r}")


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if annotation is Any:
        return ()
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


_NO = object()


def _convert(value: Any, kind: type) -> Any:
    """`value` as `kind`, or _NO. Text (from k=v flags) is read; other values are checked."""
    if isinstance(value, str):
        text, lowered = value.strip(), value.strip().lower()
        if kind is type(None):
            return None if lowered in ("none", "null") else _NO
        if kind is bool:
            return (lowered == "true") if lowered in ("true", "false") else _NO
        if kind in (int, float):
            try:
                number = kind(text)
            except ValueError:
                return _NO
            return number if math.isfinite(number) else _NO
        return value
    if kind is type(None):
        return None if value is None else _NO
    if kind is bool:
        return value if isinstance(value, bool) else _NO
    if kind is int:
        return value if _is_int(value) else _NO
    if kind is float:
        return float(value) if (_is_int(value) or isinstance(value, float)) and math.isfinite(value) else _NO
    return str(value) if _is_int(value) or isinstance(value, float) else _NO  # a number where text is wanted
