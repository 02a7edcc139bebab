"""Stage 4: asking the model, and keeping every answer (or failure) it gives."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import FailureKind, Response, Usage

logger = logging.getLogger(__name__)


@dataclass
class TaskResponses:
    """A task's answers by (doc id, index), with request keys and the rendered prompts."""

    responses: dict[tuple[int, int], Response] = field(default_factory=dict)
    prompts: dict[int, object] = field(default_factory=dict)

    def add(self, response: Response) -> None:
        self.responses[(response.origin.doc_id, response.origin.index)] = response

    def by_doc(self) -> dict[int, list[Response]]:
        grouped: dict[int, list[Response]] = {}
        for (doc_id, _), response in sorted(self.responses.items()):
            grouped.setdefault(doc_id, []).append(response)
        return grouped

    @property
    def failures(self) -> list[Response]:
        return [response for response in self.responses.values() if not response.ok]

    def failure_kinds(self) -> dict[str, int]:
        return dict(Counter(response.failure.kind.value for response in self.failures if response.failure))

    def usage(self) -> Usage:
        total = Usage()
        for response in self.responses.values():
            if response.usage is not None:
                total = total + response.usage
        return total


def run_inference(model: Model, request_type: RequestType, requests: Iterable[Request], progress: object | None = None) -> TaskResponses:
    """Dispatch requests to the model method for their type and collect the responses.

    A request the backend never answered is recorded as a failure rather than lost.
    """
    collected = TaskResponses()
    asked: dict[Origin, Request] = {}
    method = getattr(model, request_type.value)
    remembered = _remember(requests, asked, collected)
    for response in method(remembered):
        collected.add(response)
        if progress is not None:
            progress.update(1)  # type: ignore[attr-defined]
    for _ in remembered:  # requests a backend stopped reading before are unanswered too
        pass
    for origin, request in asked.items():
        if (origin.doc_id, origin.index) not in collected.responses:
            collected.add(Response.failed(request, FailureKind.BACKEND, "the backend returned no response"))
    return collected


def _remember(requests: Iterable[Request], asked: dict[Origin, Request], collected: TaskResponses) -> Iterator[Request]:
    for request in requests:
        # Only a light stub is kept: the request itself (and its media) can be freed once sent.
        asked[request.origin] = _KeyOnly(request.key, request.origin)  # type: ignore[assignment]
        if request.origin.index == 0:
            collected.prompts[request.origin.doc_id] = request.prompt
        yield request


@dataclass(frozen=True)
class _KeyOnly:
    key: str
    origin: Origin
