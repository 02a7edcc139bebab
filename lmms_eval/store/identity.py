"""Which stored answers a run may reuse: the model's identity and the request's determinism."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.model import Model
from lmms_eval.api.request import Request, RequestType


@dataclass(frozen=True)
class ModelIdentity:
    """`key` is what answers are stored under; `label` is for people (cache info, clear)."""

    key: str
    label: str


def model_identity(backend: str, model_class: type[Model], model_args: Mapping[str, Any], model: Model) -> ModelIdentity:
    """The backend, the model it serves and the args that change answers.

    Secrets and transport settings (concurrency, timeouts, retries, endpoints) are left
    out: a run resumed with more concurrency, or on another machine, reuses the answers.
    """
    excluded = set(model_class.secret_args) | set(model_class.transport_args)
    answer_args = {name: value for name, value in sorted(model_args.items()) if name not in excluded}
    payload = {"backend": model_class.__module__ + "." + model_class.__qualname__, "model": model.identity, "args": answer_args, "weights": model.weights_fingerprint()}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    return ModelIdentity(key=digest, label=f"{backend}:{model.identity}")


def is_reusable(request: Request) -> bool:
    """Deterministic answers are reused. A sampled answer is reused only when the request
    pins its seed (the seed and the sample index are then part of its key)."""
    if request.type is RequestType.LOGLIKELIHOOD:
        return True
    kwargs = request.gen_kwargs
    sampling = bool(kwargs.get("do_sample")) or float(kwargs.get("temperature") or 0) > 0
    return not sampling or kwargs.get("seed") is not None
