"""Finding tasks: a recursive scan of YAML folders, and name resolution for `--tasks`."""

from __future__ import annotations

import difflib
import fnmatch
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmms_eval.errors import TaskConfigError, UnknownNameError
from lmms_eval.taskdefs.config import OUTPUT_TYPES, GroupConfig, TaskConfig
from lmms_eval.taskdefs.index_cache import FolderCache
from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR, is_builtin, set_task_roots
from lmms_eval.taskdefs.yaml_io import IncludeReader, read_yaml

logger = logging.getLogger(__name__)
# Up to this many unreadable files get a warning each; more get one summary line.
WARN_EACH_UP_TO = 10


@dataclass
class GroupNode:
    """A selected group with its resolved members (task names or nested groups)."""

    config: GroupConfig
    children: list[str | GroupNode]
    is_tag: bool = False  # tags gather tasks but never report a combined score

    @property
    def name(self) -> str:
        return self.config.group

    def child_names(self) -> list[str]:
        return [child.name if isinstance(child, GroupNode) else child for child in self.children]

    def leaf_tasks(self) -> list[str]:
        names: list[str] = []
        for child in self.children:
            names.extend(child.leaf_tasks() if isinstance(child, GroupNode) else [child])
        return names


@dataclass
class Selection:
    """What `--tasks` asked for: top-level entries in order, and each leaf task's config."""

    roots: list[str | GroupNode] = field(default_factory=list)
    configs: dict[str, TaskConfig] = field(default_factory=dict)

    def task_names(self) -> list[str]:
        return list(self.configs)

    def groups(self) -> list[GroupNode]:
        """Every selected group, parents before their children."""
        found: list[GroupNode] = []
        pending = [root for root in self.roots if isinstance(root, GroupNode)]
        while pending:
            node = pending.pop(0)
            found.append(node)
            pending.extend(child for child in node.children if isinstance(child, GroupNode))
        return found


@dataclass(frozen=True)
class BrokenFile:
    """A YAML the index could not read or accept. It is skipped, not fatal: it stops a run
    only when a selected task needs it."""

    path: Path
    message: str  # one line, beginning with the file it is about
    name: str | None = None  # the task or group it declares, when that much could be read


def _skipped(relative: Path) -> bool:
    """Copies in hidden folders (.ipynb_checkpoints, .git) or caches would clash as duplicates."""
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts[:-1])


class TaskIndex:
    """Every task, group and tag found under the built-in folder and `--include_path`s.

    Name clashes: a file from `--include_path` replaces a built-in task or group of the
    same name. Otherwise the first definition in scan order wins (the built-in library,
    then each `--include_path` in the order given, each folder's files in sorted path
    order), and a later file defining the name again is broken ("name 'x' is already
    defined in FILE").
    """

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[Path, dict[str, Any]]] = {}
        self.groups: dict[str, GroupConfig] = {}
        self.tags: dict[str, list[str]] = {}
        self.broken: list[BrokenFile] = []
        self._reader = IncludeReader()

    @classmethod
    def build(cls, include_paths: Iterable[str | Path] = (), include_builtin: bool = True, log_broken: bool = True) -> TaskIndex:
        """Scan the folders. Unreadable files are recorded in `broken` (and logged, unless
        `log_broken` is false) instead of stopping the scan."""
        index = cls()
        user_roots = [Path(p) for p in include_paths]
        for root in user_roots:
            if not root.exists():
                raise TaskConfigError("--include_path does not exist", path=str(root))
        set_task_roots(user_roots)
        for root in ([BUILTIN_TASK_DIR] if include_builtin else []) + user_roots:
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*.yaml") if not _skipped(p.relative_to(root)))
            cache = FolderCache.open(root)  # what earlier scans read from these files (index_cache.py)
            for path in files:
                index._scan(path, cache)
            cache.save()
        if log_broken:
            index.log_broken()
        return index

    def _scan(self, path: Path, cache: FolderCache) -> None:
        try:
            self._add_loaded(path, self._load_cached(path, cache))
        except TaskConfigError as error:
            name = _declared_name(path)
            self.broken.append(BrokenFile(path, _one_line(error, path), name))
            owner = self._owner(name) if name is not None else None
            if owner is not None and is_builtin(owner) and not is_builtin(path):
                # The user's file meant to replace this built-in: running the built-in
                # instead would silently evaluate something else.
                self._forget(name)  # type: ignore[arg-type]

    def log_broken(self) -> None:
        if len(self.broken) <= WARN_EACH_UP_TO:
            for entry in self.broken:
                logger.warning("skipped %s", entry.message)
            return
        logger.warning(
            "skipped %d task files that could not be read (first: %s); `lmms-eval --tasks list` marks them "
            "and `lmms-eval tasks check all` gives each reason",
            len(self.broken),
            self.broken[0].message,
        )

    def _load_cached(self, path: Path, cache: FolderCache) -> dict[str, Any]:
        raw = cache.get(path)
        if raw is None:
            raw = self._reader.load(path)
            cache.put(path, raw, self._reader.inputs(path))
        return raw

    def add_file(self, path: Path) -> None:
        """Index one YAML; a file that cannot be read or accepted raises TaskConfigError."""
        self._add_loaded(path, self._reader.load(path))

    def _add_loaded(self, path: Path, raw: dict[str, Any]) -> None:
        source = str(path)
        if "group" in raw and isinstance(raw.get("task"), list):
            self._add_group(GroupConfig.from_dict(raw, source))
        elif isinstance(raw.get("task"), str):
            config = _validated(raw, source)  # keys are checked now: errors surface before any work
            self._claim_name(config.task, source)
            self.tasks[config.task] = (path, raw)
            for tag in config.tag:
                members = self.tags.setdefault(tag, [])
                if config.task not in members:  # a YAML given in --tasks may be added again
                    members.append(config.task)
        # Anything else is a template meant for `include`.

    def _add_group(self, config: GroupConfig) -> None:
        self._claim_name(config.group, config.source)
        self.groups[config.group] = config

    def _owner(self, name: str) -> str | None:
        if name in self.tasks:
            return str(self.tasks[name][0])
        if name in self.groups:
            return self.groups[name].source
        return None

    def _claim_name(self, name: str, source: str) -> None:
        previous = self._owner(name)
        if previous is None:
            return
        if Path(previous).resolve() == Path(source).resolve():  # the same file, by another spelling, is no clash
            return
        if is_builtin(previous) and not is_builtin(source):
            # A user's folder may redefine a library task, e.g. to point it at a local copy.
            logger.info("%s replaces the built-in '%s' (%s)", source, name, previous)
            self._forget(name)
            return
        raise TaskConfigError(f"name '{name}' is already defined in {previous}", path=source, key="task")

    def _forget(self, name: str) -> None:
        self.tasks.pop(name, None)
        self.groups.pop(name, None)
        for members in self.tags.values():
            if name in members:
                members.remove(name)

    # --- resolution -----------------------------------------------------------------

    def all_names(self) -> list[str]:
        return sorted({*self.tasks, *self.groups, *self.tags})

    def select(self, requested: Iterable[str]) -> Selection:
        selection = Selection()
        for item in requested:
            for name in self._expand_pattern(item):
                selection.roots.append(self._resolve(name, selection, ()))
        return selection

    def task_config(self, name: str, overrides: dict[str, Any] | None = None) -> TaskConfig:
        path, raw = self.tasks[name]
        return TaskConfig.from_dict({**raw, **(overrides or {})}, str(path))

    def broken_definition(self, name: str) -> BrokenFile | None:
        """The unreadable file that declares `name`, when no readable one does."""
        if name in self.tasks or name in self.groups:
            return None
        return next((entry for entry in self.broken if entry.name == name), None)

    def _expand_pattern(self, item: str) -> list[str]:
        if item.endswith(".yaml") and Path(item).is_file():
            raw = self._reader.load(Path(item))
            self.add_file(Path(item))  # named on the command line: its errors are the run's
            name = str(raw["group"]) if "group" in raw and isinstance(raw.get("task"), list) else raw.get("task")
            if not isinstance(name, str):
                raise TaskConfigError("--tasks names a YAML that defines no task or group", path=item, key="task")
            return [name]
        if any(char in item for char in "*?["):
            matches = sorted(name for name in {*self.tasks, *self.groups} if fnmatch.fnmatchcase(name, item))
            if not matches:
                raise UnknownNameError(f"no task or group matches '{item}'")
            return matches
        return [item]

    def _resolve(self, entry: Any, selection: Selection, parents: tuple[str, ...], listed_by: GroupConfig | None = None) -> str | GroupNode:
        if isinstance(entry, dict):
            return self._resolve_inline(entry, selection, parents)
        name = str(entry)
        if name in self.tasks:  # a task ends a branch, even one named like its inline group
            selection.configs.setdefault(name, self.task_config(name))
            return name
        if name in parents:
            source = self.groups[name].source if name in self.groups else None
            raise TaskConfigError(f"group cycle: {' -> '.join((*parents, name))}", path=source)
        if name in self.groups:
            return self._resolve_group(self.groups[name], selection, parents)
        if name in self.tags:
            node = self._resolve_group(GroupConfig(group=name, task=list(self.tags[name])), selection, parents)
            node.is_tag = True
            return node
        raise self._unknown(name, listed_by, parents)

    def _resolve_group(self, config: GroupConfig, selection: Selection, parents: tuple[str, ...]) -> GroupNode:
        children = [self._resolve(member, selection, (*parents, config.group), config) for member in config.task]
        return GroupNode(config, children)

    def _resolve_inline(self, entry: dict[str, Any], selection: Selection, parents: tuple[str, ...]) -> str | GroupNode:
        if "group" in entry:
            return self._resolve_group(GroupConfig.from_dict(entry, self._group_source(parents, "inline group")), selection, parents)
        name = entry.get("task")
        if not isinstance(name, str):
            raise TaskConfigError("an inline entry needs a 'task' or 'group' name", path=" -> ".join(parents), key="task")
        overrides = {k: v for k, v in entry.items() if k != "task"}
        if name in self.tasks:
            selection.configs[name] = self.task_config(name, overrides)
        else:
            # Its relative paths resolve against the group file that wrote it.
            source = self._group_source(parents, f"inline task in group {' -> '.join(parents)}")
            selection.configs[name] = TaskConfig.from_dict(entry, source)
        return name

    def _group_source(self, parents: tuple[str, ...], fallback: str) -> str:
        parent = self.groups.get(parents[-1]) if parents else None
        return parent.source if parent is not None else fallback

    def _unknown(self, name: str, listed_by: GroupConfig | None, parents: tuple[str, ...]) -> Exception:
        broken = self.broken_definition(name)
        if listed_by is not None:
            # The user typed the group, not this name: say which group file lists it.
            source = listed_by.source
            if broken is not None:
                why = f"lists '{name}', whose file could not be read: {broken.message}"
            else:
                why = f"lists '{name}', which is no task, group or tag{self._suggestion(name)}"
            return TaskConfigError(f"group '{listed_by.group}' {why}", path=source, key="task")
        if broken is not None:
            return TaskConfigError(f"'{name}' is defined only in a file that could not be read: {broken.message}")
        return UnknownNameError(self._unknown_message(name))

    def _suggestion(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.all_names(), n=3, cutoff=0.6)
        return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""

    def _unknown_message(self, name: str) -> str:
        unreadable = sum(entry.name is None for entry in self.broken)
        note = f"; {unreadable} task files could not be read (`lmms-eval tasks check all` shows why)" if unreadable else ""
        return f"unknown task, group or tag '{name}'{self._suggestion(name)} (see `lmms-eval --tasks list`){note}"


def _validated(raw: dict[str, Any], source: str) -> TaskConfig:
    """The task's config, validated. An output type this version cannot run still indexes
    (the file is well formed and names a task): the run that selects it, and `tasks check`,
    report it when they build its config."""
    try:
        return TaskConfig.from_dict(raw, source)
    except TaskConfigError as error:
        if error.key != "output_type":
            raise
        return TaskConfig.from_dict({**raw, "output_type": OUTPUT_TYPES[0]}, source)


def _declared_name(path: Path) -> str | None:
    """The task or group name a file declares, read without its includes (which may be
    what is broken)."""
    try:
        raw = read_yaml(path)
    except TaskConfigError:
        return None
    name = raw.get("group") if isinstance(raw.get("task"), list) else raw.get("task")
    return name if isinstance(name, str) else None


def _one_line(error: TaskConfigError, path: Path) -> str:
    """The error as one line that starts with the broken file (an error about a file it
    includes is prefixed with it)."""
    text = " ".join(str(error).split())
    return text if error.path is not None and _same_file(error.path, path) else f"{path}: {text}"


def _same_file(location: str, path: Path) -> bool:
    file, _, line = location.rpartition(":")
    if not (file and line.isdecimal()):  # "FILE:LINE" from a YAML syntax error
        file = location
    return Path(file).resolve() == path.resolve()
