"""Generation settings that backends read, checked in one place.

`--gen_kwargs` is checked when the run's configuration is read, and each task's
`generation_kwargs` when the task is built, so a wrong type (`max_new_tokens: "ten"`)
is one error line before any request, never a failure of every request. Values are
checked, not rewritten: they are part of each request's key.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from lmms_eval.errors import ConfigError


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _stops(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(stop, str) for stop in value))


# key -> (test, what the value must be)
_KNOWN: dict[str, tuple[Callable[[Any], bool], str]] = {
    "max_new_tokens": (lambda value: _is_int(value) and value >= 1, "an int of at least 1"),
    "temperature": (lambda value: _is_number(value) and value >= 0, "a number of at least 0"),
    # 0 is accepted: lmms-eval task folders write `top_p: 0` beside greedy decoding.
    "top_p": (lambda value: _is_number(value) and 0 <= value <= 1, "a number from 0 to 1"),
    "top_k": (lambda value: _is_int(value) and value >= 0, "an int of at least 0"),
    "do_sample": (lambda value: isinstance(value, bool), "true or false"),
    "num_beams": (lambda value: _is_int(value) and value >= 1, "an int of at least 1"),
    "until": (_stops, "a string or a list of strings"),
    "seed": (lambda value: value is None or _is_int(value), "an int"),
}


def validate_generation_kwargs(kwargs: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """Raise a ConfigError naming `where` and the key for the first setting a backend
    could not use. Keys no backend reads are passed on unchecked."""
    for key, value in kwargs.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where}: setting names must be text, not {key!r}")
        known = _KNOWN.get(key)
        if known is not None and not known[0](value):
            raise ConfigError(f"{where}: {key} must be {known[1]}, not {value!r}")
    return kwargs
