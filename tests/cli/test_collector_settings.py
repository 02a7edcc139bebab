"""The garbage collector is set for one command only when main() is the whole process."""

import gc
import os
import subprocess
import sys

from lmms_eval.cli.main import YOUNG_COLLECTION_THRESHOLD, main


def command_process(prelude: str = "", epilogue: str = "") -> str:
    """The stderr of `lmms-eval models` run as a whole process (main() with no arguments),
    with `prelude` run before it and `epilogue` after it returned."""
    lines = ["import atexit, gc, sys, types", prelude, "from lmms_eval.cli.main import main", "sys.argv = ['lmms-eval', 'models']",
             "status = main()", epilogue, "raise SystemExit(status)"]  # fmt: skip
    done = subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_command_raises_the_young_collection_threshold():
    printed = command_process(epilogue="print('threshold', gc.get_threshold()[0], file=sys.stderr)")
    assert printed.split("threshold")[-1].split()[0] == str(YOUNG_COLLECTION_THRESHOLD)


def test_main_called_with_arguments_leaves_the_collector_alone(capsys):
    before = gc.get_threshold()
    assert main(["models"]) == 0
    assert gc.get_threshold() == before


# Registered before main(), so it runs after the command's own exit handler.
REPORT_FREEZE = "atexit.register(lambda: print('frozen', gc.get_freeze_count(), file=sys.stderr))"


def test_what_is_alive_at_exit_is_frozen_unless_triton_is_loaded():
    frozen = command_process(REPORT_FREEZE)
    assert int(frozen.split("frozen")[-1].split()[0]) > 1000  # modules and all: the final collections skip them
    with_triton = command_process(f"sys.modules['triton'] = types.ModuleType('triton'); {REPORT_FREEZE}")
    assert int(with_triton.split("frozen")[-1].split()[0]) == 0


def test_the_demo_ends_without_leak_reports_from_torchs_bindings(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "lmms_eval", "demo", "--limit", "2"], capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "demo_yesno" in done.stdout
    assert "leaked" not in done.stderr and "nanobind" not in done.stderr
