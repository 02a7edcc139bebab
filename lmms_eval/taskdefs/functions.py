"""`!function module.name` references in task YAMLs, resolved against the YAML's folder."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.errors import TaskConfigError
from lmms_eval.taskdefs.packages import install_hint


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
    """The module a `!function` names: a file beside the YAML, else an importable module
    (lmms-eval task files also write `!function lmms_eval.tasks.<folder>.utils.fn`)."""
    file = _sibling_file(base_dir, module_path)
    if file is not None:
        return _load_file(file, source, key)
    expected = base_dir.joinpath(*module_path.split(".")).with_suffix(".py")
    if "." not in module_path:
        # A bare `utils` is always a file beside the YAML: an import could find another
        # task folder's utils.py on sys.path.
        raise TaskConfigError(f"'!function {module_path}...': no file {expected}", path=source, key=key)
    try:
        return importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        if error.name is not None and (module_path == error.name or module_path.startswith(error.name + ".")):
            # The named module (or its package) is absent, not something it imports.
            raise TaskConfigError(f"'!function {module_path}...': no file {expected} and no module {module_path}", path=source, key=key) from None
        raise TaskConfigError(f"importing {module_path} failed: {import_failure(error)}", path=source, key=key) from error
    except (Exception, SystemExit) as error:
        raise TaskConfigError(f"importing {module_path} failed: {import_failure(error)}", path=source, key=key) from error


def _sibling_file(base_dir: Path, module_path: str) -> Path | None:
    # `pkg.helpers` is pkg/helpers.py; lmms-eval also reads it as a file named "pkg.helpers.py".
    for file in (base_dir.joinpath(*module_path.split(".")).with_suffix(".py"), base_dir / f"{module_path}.py"):
        if file.is_file():
            return file.resolve()
    return None


def _load_file(file: Path, source: str, key: str | None) -> Any:
    """Each file runs once per process (lmms-eval runs it again for every `!function`
    naming it); its `__file__` is its real path, which task code uses to find its YAML."""
    if file not in _modules:
        # A unique module name per file: two task folders may both have a utils.py.
        digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
        name = f"lmms_eval_task_code.{file.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        # The folder goes on sys.path (at the end, so it shadows no installed package) for
        # task code that imports its sibling modules (`from utils import ...`).
        if str(file.parent) not in sys.path:
            sys.path.append(str(file.parent))
        provide_hf_home()
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:  # task code may call sys.exit() when a dependency is missing
            del sys.modules[name]
            raise TaskConfigError(f"importing {file} failed: {import_failure(error)}", path=source, key=key) from error
        _modules[file] = module
    return _modules[file]


def provide_hf_home() -> None:
    """Set HF_HOME to the Hub's own default where it is unset.

    Many lmms-eval task files read `os.environ["HF_HOME"]` when imported (to find extracted
    videos); lmms-eval's users have it set. The Hub libraries already use this folder when
    it is unset, so naming it changes nothing for them."""
    if "HF_HOME" not in os.environ:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        os.environ["HF_HOME"] = os.path.join(cache, "huggingface")


def import_failure(error: BaseException) -> str:
    """Why task code could not be imported, in one line a user can act on."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        return missing_module(error.name)
    variable = _unset_environment_variable(error)
    if variable is not None:
        return f"reads the environment variable {variable}, which is not set"
    return " ".join(repr(error).split())


def _unset_environment_variable(error: BaseException) -> str | None:
    """The name, when task code failed on `os.environ[NAME]` (HF_HOME, API keys, ...)."""
    if not isinstance(error, KeyError) or not error.args or not isinstance(error.args[0], str):
        return None
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    failed_in_environ = traceback is not None and traceback.tb_frame.f_globals.get("__name__") == "os"
    return error.args[0] if failed_in_environ else None


def missing_module(name: str) -> str:
    if name == "lmms_eval.tasks" or name.startswith("lmms_eval.tasks."):
        return f"needs {name}, which is neither in the built-in task library nor in any --include_path folder"
    if name.split(".")[0] == "lmms_eval":
        return f"needs {name}, which this version of lmms-eval does not provide"
    return install_hint(name)
