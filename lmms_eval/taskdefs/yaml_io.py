"""Reading task YAMLs: the `!function` tag and `include` inheritance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loader_for(path: Path) -> type:
    """A loader class whose `!function` tag remembers which file (and folder) wrote it."""

    def construct_function(loader: Any, node: Any) -> FunctionRef:
        return FunctionRef(loader.construct_scalar(node), path.parent, str(path))

    loader = type("TaskYamlLoader", (_BaseLoader,), {})
    loader.add_constructor("!function", construct_function)
    return loader


def read_yaml(path: Path) -> dict[str, Any]:
    """One YAML file as a dict, without following `include`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TaskConfigError(f"cannot read: {error.strerror}", path=str(path)) from None
    try:
        data = yaml.load(text, Loader=_loader_for(path))  # noqa: S506 - a safe loader plus one tag
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise TaskConfigError(f"malformed YAML: {problem}", path=where) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TaskConfigError(f"expected a mapping at the top, found {type(data).__name__}", path=str(path))
    return data


def load_with_includes(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A YAML file with its `include` chain merged in; the including file's keys win."""
    path = path.resolve()
    if path in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, path))
        raise TaskConfigError(f"include cycle: {chain}", path=str(path), key="include")
    data = read_yaml(path)
    include = data.pop("include", None)
    if include is None:
        return data
    merged: dict[str, Any] = {}
    for name in include if isinstance(include, list) else [include]:
        target = _include_target(Path(name), path)
        merged.update(_anchor_local_paths(load_with_includes(target, (*_seen, path)), target.parent))
    merged.update(data)
    return merged


def _anchor_local_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative data paths written in an included file stay relative to *that* file, so a
    user's YAML that includes a library task still finds the library's bundled data."""

    def anchored(value: Any) -> Any:
        if isinstance(value, str) and not Path(value).is_absolute() and (folder / value).exists():
            return str(folder / value)
        if isinstance(value, list):
            return [anchored(item) for item in value]
        if isinstance(value, dict):
            return {key: anchored(item) for key, item in value.items()}
        return value

    data = dict(data)
    if "dataset_path" in data:
        data["dataset_path"] = anchored(data["dataset_path"])
    kwargs = data.get("dataset_kwargs")
    if isinstance(kwargs, dict):
        data["dataset_kwargs"] = {
            key: anchored(value) if key in ("data_files", "data_dir") else value for key, value in kwargs.items()
        }
    return data


def _include_target(name: Path, including: Path) -> Path:
    """An absolute path; else relative to the including file; else relative to the
    built-in task library (so a user's YAML can write `include: mme/mme.yaml`)."""
    candidates = [name] if name.is_absolute() else [including.parent / name, BUILTIN_TASK_DIR / name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise TaskConfigError(f"included file not found: {candidates[0]}", path=str(including), key="include")
