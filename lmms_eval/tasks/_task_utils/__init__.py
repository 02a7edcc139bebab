"""lmms-eval's shared task helpers, at the import paths its task folders use
(`lmms_eval.tasks._task_utils.<module>`).

Each module is a thin layer over this project's own code where that already implements
the rule (filters, choice letters, VQA normalisation, MMMU parsing), and reproduces
lmms-eval's documented behaviour where it differs, saying why. docs/compat.md lists what
exists and each deliberate difference. Importing any of them is cheap: no model, SDK or
network code runs until a function needs it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

# Users' copies of lmms-eval's `_task_utils` folder (from --include_path) are appended to
# this package's search path by `lmms_eval.taskdefs.library.set_task_roots`, so modules
# this project does not provide (e.g. `video_loader`) come from the user's copy.


def names_from_users_copy(module_name: str) -> Callable[[str], object]:
    """A module `__getattr__` (PEP 562) for the modules here: a name this project does not
    define is taken from the user's own copy of the same module, when an --include_path
    folder has one. lmms-eval's helper modules hold more functions than task files commonly
    import; those rarely used ones keep lmms-eval's own behaviour that way."""
    short_name = module_name.rpartition(".")[2]

    def __getattr__(name: str) -> object:
        if not name.startswith("__"):
            for copy in _users_copies(short_name):
                if hasattr(copy, name):
                    return getattr(copy, name)
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


def _users_copies(short_name: str) -> list[object]:
    return [_load_copy(folder / f"{short_name}.py") for folder in _user_folders() if (folder / f"{short_name}.py").is_file()]


def _user_folders() -> list[Path]:
    own = Path(__file__).resolve().parent
    return [Path(entry) for entry in __path__ if Path(entry).resolve() != own]


def _load_copy(file: Path) -> object:
    digest = hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:10]
    name = f"lmms_eval.tasks._task_utils._users_copy_{digest}_{file.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]
