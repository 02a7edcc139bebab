"""`python -m lmms_eval` is the `lmms-eval` command."""

from lmms_eval.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
