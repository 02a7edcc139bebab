"""`python -m lmms_eval` is the `lmms-eval` command (main() with no arguments reads the
process's command line and skips the interpreter's final garbage collections: see
lmms_eval.cli.main.skip_collections_at_exit)."""

from lmms_eval.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
