"""The README's commands start from compiled bytecode, and `uv run` stays quiet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_modules_imported_after_lmms_eval_keep_their_bytecode(tmp_path):
    """With PYTHONDONTWRITEBYTECODE=1 (common in containers) every process compiled the
    heavy libraries from source again; inside the project's environment it no longer does."""
    (tmp_path / "heavy_module.py").write_text("VALUE = 42\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)}
    probe = "import lmms_eval, heavy_module, sys; print(heavy_module.__cached__); sys.exit(heavy_module.VALUE != 42)"
    completed = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert sys.prefix != sys.base_prefix  # the suite runs in the project's virtual environment
    assert Path(completed.stdout.strip()).is_file()


def test_the_users_setting_stands_outside_a_virtual_environment(tmp_path):
    (tmp_path / "plain_module.py").write_text("VALUE = 1\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    probe = "import sys; sys.base_prefix = sys.prefix; import lmms_eval, plain_module; print(sys.dont_write_bytecode)"
    completed = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert completed.stdout.strip() == "True", completed.stderr
    assert not (tmp_path / "__pycache__").exists()


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not installed")
def test_uv_run_in_a_synced_environment_prints_nothing():
    """uv's `compile-bytecode` setting would make every `uv run` recompile the whole
    environment and say so (astral-sh/uv#12202): about 1 s and one line per command."""
    completed = subprocess.run(
        ["uv", "run", "--offline", "--frozen", "python", "-c", "pass"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert (completed.stdout, completed.stderr) == ("", "")
