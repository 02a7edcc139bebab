"""`lmms_eval.tasks._builtin.<folder>`: the built-in library only, for built-in task code.

`lmms_eval.tasks.<folder>` searches users' --include_path folders first (lmms-eval task
files import their own folders that way), so a user's copy of lmms-eval's library would
shadow our `mmmu/`, `coco_cap/` or `librispeech/`. Built-in task code that shares code
across folders imports it through this package, whose search path is the built-in
library alone.
"""

from pathlib import Path

__path__ = [str(Path(__file__).resolve().parent.parent)]
