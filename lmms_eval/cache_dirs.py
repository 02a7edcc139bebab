"""Where the project keeps its own caches: each has an environment variable that names its
folder, else a folder under the user's cache root ($XDG_CACHE_HOME, else ~/.cache)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_folder(env_var: str, *default: str) -> Path:
    """`$env_var` (with `~` expanded) when set, else `<cache root>/<default...>`. Raises
    RuntimeError when the default is needed and there is no home folder to find."""
    given = os.environ.get(env_var)
    if given:
        return Path(given).expanduser()
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root, *default)
