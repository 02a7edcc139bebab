"""The garbage collector is set for one command only when main() is the whole process."""

import gc
import os
import subprocess
import sys

from lmms_eval.cli.main import YOUNG_COLLECTION_THRESHOLD, main


def test_the_command_raises_the_young_collection_threshold():
    script = (
        "import gc, sys\n"
        "from lmms_eval.cli.main import main\n"
        "sys.argv = ['lmms-eval', 'models']\n"
        "status = main()\n"
        "print(status, gc.get_threshold()[0], file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.split()[-2:] == ["0", str(YOUNG_COLLECTION_THRESHOLD)]


def test_main_called_with_arguments_leaves_the_collector_alone(capsys):
    before = gc.get_threshold()
    assert main(["models"]) == 0
    assert gc.get_threshold() == before


def _exit_freeze_count(prelude: str) -> int:
    """How many objects were frozen when the command's process ended."""
    script = (
        "import atexit, gc, sys\n"
        f"{prelude}\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))  # runs after the command's own\n"
        "from lmms_eval.cli.main import main\n"
        "sys.argv = ['lmms-eval', 'models']\n"
        "raise SystemExit(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stderr.split("frozen")[-1].split()[0])


def test_what_is_alive_at_exit_is_frozen_unless_triton_is_loaded():
    assert _exit_freeze_count("") > 1000  # modules and all: the final collections skip them
    assert _exit_freeze_count("import types; sys.modules['triton'] = types.ModuleType('triton')") == 0


def test_the_demo_ends_without_leak_reports_from_torchs_bindings(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lmms_eval", "demo", "--limit", "2"], capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "demo_yesno" in done.stdout
    assert "leaked" not in done.stderr and "nanobind" not in done.stderr
