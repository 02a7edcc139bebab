"""The garbage collector is set for one command only when main() is the whole process."""

import gc
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
