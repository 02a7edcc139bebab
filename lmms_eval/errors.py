"""User-facing failure kinds.

Each exception here is caught once, by the CLI, and printed as one line that says what
went wrong and where. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class LmmsEvalError(Exception):
    """Base class of every error the CLI reports as one clear line."""

    exit_code = 2


class ConfigError(LmmsEvalError):
    """A command-line flag, run config file or model_args value is invalid."""


class TaskConfigError(LmmsEvalError):
    """A task or group YAML is malformed: the message names the file and the key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        where = ", ".join(part for part in (path, f"key '{key}'" if key else None) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.key = key


class UnknownNameError(LmmsEvalError):
    """A task, group, model, filter or metric name that no registry knows."""


class DatasetLoadError(LmmsEvalError):
    """A task's dataset could not be loaded."""


class DocumentError(LmmsEvalError):
    """A task function failed on one document: the message names the task and doc id."""


class ModelError(LmmsEvalError):
    """A model backend cannot be constructed or cannot serve the requests it was given."""


class ServerUnreachableError(ModelError):
    """An API endpoint did not accept connections at all."""


class OutputError(LmmsEvalError):
    """Results could not be written."""
