"""`python -m lmms_eval` is the `lmms-eval` command (main() with no arguments reads the
process's command line and sets the garbage collector for one command: see
lmms_eval.cli.main.tune_collector_for_this_process)."""

from lmms_eval.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
