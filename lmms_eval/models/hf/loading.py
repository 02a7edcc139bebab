"""Loading transformers models: devices, dtypes, weights fingerprints, release."""

from __future__ import annotations

import gc
import hashlib
import os
from pathlib import Path
from typing import Any

from lmms_eval.errors import ModelError

_DTYPES = ("auto", "float32", "float16", "bfloat16")
_FINGERPRINT_BYTES = 1 << 20  # hash the first and last MiB of each weights file: cheap, and changes with the weights


def require_transformers() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise ModelError("HuggingFace backends need the `hf` extra: uv sync --extra hf (or pip install -e '.[hf]' in this repository)") from None


def resolve_device(device: str | None) -> str:
    """--device, else this process's GPU under a launcher (LOCAL_RANK), else cuda:0 or cpu."""
    import torch

    if device:
        return device
    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    return "cpu"


def resolve_dtype(dtype: str) -> Any:
    import torch

    if dtype not in _DTYPES:
        raise ModelError(f"dtype must be one of {', '.join(_DTYPES)}, not {dtype}")
    return "auto" if dtype == "auto" else getattr(torch, dtype)


def load_kwargs(
    revision: str | None, dtype: str, device_map: str | None, attn_implementation: str | None, trust_remote_code: bool, gguf_file: str | None
) -> dict[str, Any]:
    """Keyword arguments for `from_pretrained`, leaving out what the user did not set."""
    kwargs: dict[str, Any] = {"dtype": resolve_dtype(dtype), "trust_remote_code": trust_remote_code}
    for name, value in (("revision", revision), ("device_map", device_map), ("attn_implementation", attn_implementation), ("gguf_file", gguf_file)):
        if value is not None:
            kwargs[name] = value
    return kwargs


def split_gguf(pretrained: str, gguf_file: str | None) -> tuple[str, str | None]:
    """`gguf_file` may name a file in `pretrained`'s folder or be a path of its own."""
    if gguf_file is None:
        return pretrained, None
    path = Path(gguf_file)
    if path.is_file() and (path.is_absolute() or not (Path(pretrained) / gguf_file).is_file()):
        return str(path.parent), path.name
    return pretrained, gguf_file


def weights_fingerprint(pretrained: str, model: Any) -> str | None:
    """The Hub commit the weights came from, or a hash of local weight files."""
    commit = getattr(model.config, "_commit_hash", None)
    if commit:
        return commit
    folder = Path(pretrained)
    if not folder.is_dir():
        return None
    hasher = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        if file.suffix in (".safetensors", ".bin", ".gguf", ".pt") and file.is_file():
            hasher.update(f"{file.name}:{file.stat().st_size}".encode())
            with file.open("rb") as handle:
                hasher.update(handle.read(_FINGERPRINT_BYTES))
                handle.seek(max(0, file.stat().st_size - _FINGERPRINT_BYTES))
                hasher.update(handle.read())
    return hasher.hexdigest()


def free_memory() -> None:
    """Collect dropped weights now, so what runs after inference (an LLM judge) has the memory."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
