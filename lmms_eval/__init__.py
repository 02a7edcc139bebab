"""lmms-eval: evaluate large multimodal models on standard benchmarks."""

import sys as _sys


def _keep_compiled_modules() -> None:
    """Let Python keep the bytecode it compiles when running from a virtual environment.

    Containers often set PYTHONDONTWRITEBYTECODE=1; uv then installs no .pyc files, and
    every process compiled torch, transformers and datasets from source again (+2.9 s a
    run, measured). uv's own `compile-bytecode` setting is no cure: `uv run` then
    recompiles the whole environment on every call, about 1 s and a "Bytecode compiled"
    line each time (astral-sh/uv#12202). Inside a virtual environment the .pyc files go
    to caches nobody ships, so the first run keeps what it compiles and later runs start
    from it; outside one (a system Python) the user's setting stands.
    """
    if _sys.dont_write_bytecode and _sys.prefix != _sys.base_prefix:
        _sys.dont_write_bytecode = False


_keep_compiled_modules()
