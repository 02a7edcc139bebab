"""Built-in task code imports shared code only through `lmms_eval.tasks._common`,
`_task_utils` or `_builtin.<folder>`: any other `lmms_eval.tasks.<folder>` path resolves to a
user's folder of the same name first when an --include_path copy of lmms-eval's library is
given."""

from __future__ import annotations

import ast

from lmms_eval.taskdefs.library import BUILTIN_TASK_DIR

SHARED = ("lmms_eval.tasks._common", "lmms_eval.tasks._task_utils", "lmms_eval.tasks._builtin")


def imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_built_in_task_code_imports_no_other_task_folder() -> None:
    offenders = []
    for file in sorted(BUILTIN_TASK_DIR.rglob("*.py")):
        for module in imported_modules(ast.parse(file.read_text(), str(file))):
            if module.startswith("lmms_eval.tasks.") and not module.startswith(SHARED):
                offenders.append(f"{file.relative_to(BUILTIN_TASK_DIR)}: {module}")
    assert offenders == []


def test_the_builtin_path_ignores_users_folders(tmp_path) -> None:
    import importlib

    from helpers import write

    from lmms_eval.taskdefs.library import set_task_roots

    write(tmp_path / "mmmu" / "utils.py", "SHADOW = True\n")
    try:
        set_task_roots([tmp_path])
        assert hasattr(importlib.import_module("lmms_eval.tasks.mmmu.utils"), "SHADOW")  # users' code sees theirs
        ours = importlib.import_module("lmms_eval.tasks._builtin.mmmu.utils")
        assert not hasattr(ours, "SHADOW") and hasattr(ours, "parse_options")
    finally:
        set_task_roots([])
