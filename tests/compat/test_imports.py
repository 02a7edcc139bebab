"""The compatibility modules import cheaply and without the network."""

from __future__ import annotations

import json
import subprocess
import sys

COMPAT_MODULES = [
    "lmms_eval.tasks._task_utils",
    "lmms_eval.tasks._task_utils.file_utils",
    "lmms_eval.tasks._task_utils.default_template_yaml",
    "lmms_eval.tasks._task_utils.reasoning_utils",
    "lmms_eval.tasks._task_utils.mcq_extract",
    "lmms_eval.tasks._task_utils.mmmu_mcq_utils",
    "lmms_eval.tasks._task_utils.media_resolver",
    "lmms_eval.tasks._task_utils.vqa_eval_metric",
    "lmms_eval.tasks._task_utils.point_format",
    "lmms_eval.filters",
    "lmms_eval.filters.extraction",
    "lmms_eval.filters.transformation",
    "lmms_eval.api.metrics",
    "lmms_eval.api.reasoning",
    "lmms_eval.utils",
]
HEAVY = ["torch", "transformers", "openai", "datasets", "numpy", "PIL", "requests", "aiohttp", "math_verify"]

PROBE = """
import importlib, json, socket, sys

def refuse(*args, **kwargs):
    raise RuntimeError("network used at import")

socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
for name in {modules!r}:
    importlib.import_module(name)
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def test_compat_modules_import_without_heavy_packages_or_network() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=COMPAT_MODULES, heavy=HEAVY)],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "USE_LLM_JUDGE": "True", "JUDGE_API_KEY": ""},  # no key: import still works
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []
