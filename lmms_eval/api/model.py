"""The base class of model backends.

A backend owns only turning requests into responses: its client or weights, its batching,
its own limits. The engine owns ordering, persistence, progress and sharding.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from lmms_eval.api.request import Request, RequestType
from lmms_eval.api.response import Response
from lmms_eval.errors import ModelError


class Model(ABC):
    """Subclasses implement the request types they support.

    Both methods take an iterable, consume it lazily and yield responses as they are ready,
    in any order: a backend never needs to hold every request (and its decoded images) at
    once, and the engine can persist each answer as it arrives.
    """

    #: Chat models receive `ChatMessages`; simple models receive text plus visuals.
    is_chat: ClassVar[bool] = False
    #: Names of constructor arguments whose values are secrets (redacted from every output).
    secret_args: ClassVar[tuple[str, ...]] = ()
    #: Constructor arguments that change how requests travel, never what is answered
    #: (concurrency, timeouts, endpoints): left out of the identity stored answers are kept under.
    transport_args: ClassVar[tuple[str, ...]] = ()
    #: How this backend samples videos (a lmms_eval.media.sampling.VideoSampling built from
    #: its model_args); None for backends that sample none. `use_task_kwargs` adjusts it per task.
    video_sampling: Any = None
    #: The API vendor whose list prices apply (a key of lmms_eval.pricing.PRICE_TABLE), if any.
    provider: ClassVar[str | None] = None

    def __init__(self, **unused: Any) -> None:
        if unused:
            names = ", ".join(sorted(unused))
            raise ModelError(f"{type(self).__name__} does not take model_args {names}")

    @classmethod
    def create(cls, model_args: dict[str, Any], *, batch_size: int = 1, device: str | None = None) -> Model:
        """Build from parsed `--model_args`; backends that use batch_size/device override this."""
        return cls(**model_args)

    @property
    def identity(self) -> str:
        """A short name for output folders and reports."""
        return type(self).__name__

    def weights_fingerprint(self) -> str | None:
        """The revision or file hash of the weights, where the backend knows it."""
        return None

    def generate_until(self, requests: Iterable[Request]) -> Iterator[Response]:
        raise ModelError(f"model {self.identity} cannot answer {RequestType.GENERATE_UNTIL.value} requests")

    def loglikelihood(self, requests: Iterable[Request]) -> Iterator[Response]:
        raise ModelError(
            f"model {self.identity} cannot answer {RequestType.LOGLIKELIHOOD.value} requests "
            "(multiple_choice and loglikelihood tasks need a backend with log-probabilities)"
        )

    def supports(self, request_type: RequestType) -> bool:
        method = getattr(type(self), request_type.value)
        return method is not getattr(Model, request_type.value)

    def use_task_kwargs(self, task_kwargs: Any) -> Any:
        """Sample the next task's videos with its resolved `lmms_eval_specific_kwargs` on top
        of model_args (the task's keys win); returns the spec now in force, or None. The
        evaluator answers one task at a time, so the spec holds for that task's requests."""
        if self.video_sampling is None:
            return None
        if not hasattr(self, "_model_args_sampling"):
            self._model_args_sampling = self.video_sampling
        self.video_sampling = self._model_args_sampling.for_task(task_kwargs)
        return self.video_sampling

    def wants_frames(self) -> bool:
        """Whether this backend sends videos as the media layer's sampled frames (then the
        engine decodes them ahead of it). Backends that send videos whole override it."""
        return self.video_sampling is not None

    def accepts(self, kind: str) -> bool:
        """Whether this backend can take media of this kind (`image`, `video`, `audio`).
        Checked on a task's first request, so a task it cannot take fails before any
        request is sent. Backends that take only some kinds override it."""
        return True

    def close(self) -> None:
        """Release clients or weights once inference is over."""
