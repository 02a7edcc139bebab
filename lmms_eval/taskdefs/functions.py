"""`!function module.name` references in task YAMLs, resolved against the YAML's folder."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.errors import TaskConfigError


@dataclass(frozen=True)
class FunctionRef:
    """A function named in a YAML, imported only when a task that uses it is built."""

    dotted: str  # "utils.process_results" or "pkg.utils.fn"
    base_dir: Path  # the folder of the YAML file that wrote it
    source: str = ""  # that YAML file, for error messages

    def __str__(self) -> str:
        return f"!function {self.dotted}"

    def resolve(self, key: str | None = None) -> Callable[..., Any]:
        module_path, _, name = self.dotted.rpartition(".")
        if not module_path:
            raise TaskConfigError(f"'!function {self.dotted}' must be module.function", path=self.source, key=key)
        module = _load_module(self.base_dir, module_path, self.source, key)
        try:
            return getattr(module, name)
        except AttributeError:
            raise TaskConfigError(
                f"'!function {self.dotted}': {module.__file__} has no function '{name}'", path=self.source, key=key
            ) from None


_modules: dict[Path, Any] = {}


def _load_module(base_dir: Path, module_path: str, source: str, key: str | None) -> Any:
    file = base_dir.joinpath(*module_path.split(".")).with_suffix(".py")
    if not file.is_file():
        raise TaskConfigError(f"'!function {module_path}...': no file {file}", path=source, key=key)
    file = file.resolve()
    if file not in _modules:
        # A unique module name per file: two task folders may both have a utils.py.
        digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
        name = f"lmms_eval_task_code.{file.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        # The folder goes on sys.path so task code can import its sibling modules.
        if str(file.parent) not in sys.path:
            sys.path.append(str(file.parent))
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[name]
            raise TaskConfigError(f"importing {file} failed: {error!r}", path=source, key=key) from error
        _modules[file] = module
    return _modules[file]
