"""Reading task YAMLs: the `!function` tag and `include` inheritance."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.functions import FunctionRef
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR


@functools.cache
def _base_loader() -> type:
    # PyYAML is imported by the first parse: a run whose task files all come from the
    # index cache (index_cache.py) needs none.
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _loader_for(path: Path) -> type:
    """A loader class whose `!function` tag remembers which file (and folder) wrote it."""

    def construct_function(loader: Any, node: Any) -> FunctionRef:
        return FunctionRef(loader.construct_scalar(node), path.parent, str(path))

    loader = type("TaskYamlLoader", (_base_loader(),), {})
    loader.add_constructor("!function", construct_function)
    return loader


def read_yaml(path: Path) -> dict[str, Any]:
    """One YAML file as a dict, without following `include`."""
    import yaml

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


def load_with_includes(path: Path) -> dict[str, Any]:
    """A YAML file with its `include` chain merged in; the including file's keys win."""
    return IncludeReader().load(path)


class IncludeReader:
    """Reads task YAMLs with their `include` chains, parsing each file once.

    lmms-eval's library includes one `_default_template_yaml` from about 1,200 files: an
    index built with one reader parses each template once instead of once per includer.
    A failure is remembered too, so a broken template costs one parse however many files
    include it.
    """

    def __init__(self) -> None:
        self._loaded: dict[Path, dict[str, Any] | TaskConfigError] = {}
        self._inputs: dict[Path, _FileInputs] = {}  # each merged file's own includes and probes

    def load(self, path: Path) -> dict[str, Any]:
        # A deep copy: tasks built from one template must not share its mutable values.
        return copy.deepcopy(self._load(path.resolve(), ()))

    def inputs(self, path: Path) -> ReadInputs:
        """What `load(path)` read, through its whole include chain: the files (as the
        including file named them, so a re-pointed link shows) and the paths whose
        existence chose a value. Only for a path that loaded without error."""
        found = ReadInputs(files=[path])
        pending, done = [path.resolve()], set()
        while pending:
            current = pending.pop()
            if current in done:
                continue
            done.add(current)
            own = self._inputs[current]
            found.probes.update(own.probes)
            for named, target in own.includes:
                found.files.append(named)
                pending.append(target)
        return found

    def _load(self, path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
        if path in seen:
            chain = " -> ".join(str(p) for p in (*seen, path))
            raise TaskConfigError(f"include cycle: {chain}", path=str(path), key="include")
        cached = self._loaded.get(path)
        if cached is None:
            try:
                cached = self._merge(path, seen)
            except TaskConfigError as error:  # a file on a cycle, or including one, is broken from any start
                cached = error
            self._loaded[path] = cached
        if isinstance(cached, TaskConfigError):
            raise cached
        return cached

    def _merge(self, path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
        data = read_yaml(path)
        include = data.pop("include", None)
        own = self._inputs[path] = _FileInputs()
        if include is None:
            return data
        merged: dict[str, Any] = {}
        for name in include if isinstance(include, list) else [include]:
            if not isinstance(name, str):
                raise TaskConfigError(f"expected a file name, found {name!r}", path=str(path), key="include")
            named = _include_target(Path(name), path, own.probe_file)
            target = named.resolve()
            own.includes.append((named, target))
            merged.update(_anchor_local_paths(self._load(target, (*seen, path)), target.parent, own.probe_exists))
        merged.update(data)
        return merged


@dataclass
class ReadInputs:
    """The files a merged YAML was read from, and each path whose existence (`exists`, or
    `is_file` for an include's candidates) decided a value, with what it found. The
    task index's cache keeps a file's result while all of these stay as they were."""

    files: list[Path] = field(default_factory=list)
    probes: dict[tuple[str, str], bool] = field(default_factory=dict)  # (path, "file" | "exists") -> found


@dataclass
class _FileInputs:
    """One file's own part of ReadInputs: the includes it named, the probes it made."""

    includes: list[tuple[Path, Path]] = field(default_factory=list)  # (the path as named, resolved)
    probes: dict[tuple[str, str], bool] = field(default_factory=dict)

    def probe_file(self, path: Path) -> bool:
        found = self.probes[(str(path), "file")] = path.is_file()
        return found

    def probe_exists(self, path: Path) -> bool:
        found = self.probes[(str(path), "exists")] = path.exists()
        return found


def _anchor_local_paths(data: dict[str, Any], folder: Path, exists: Callable[[Path], bool]) -> dict[str, Any]:
    """Relative data paths written in an included file stay relative to *that* file, so a
    user's YAML that includes a library task still finds the library's bundled data."""

    def anchored(value: Any) -> Any:
        if isinstance(value, str) and not Path(value).is_absolute() and exists(folder / value):
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


def _include_target(name: Path, including: Path, is_file: Callable[[Path], bool]) -> Path:
    """An absolute path; else relative to the including file; else relative to the
    built-in task library (so a user's YAML can write `include: mme/mme.yaml`)."""
    candidates = [name] if name.is_absolute() else [including.parent / name, BUILTIN_TASK_DIR / name]
    for candidate in candidates:
        if is_file(candidate):
            return candidate
    raise TaskConfigError(f"included file not found: {candidates[0]}", path=str(including), key="include")
