"""What a model answered to one request, or why it could not."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lmms_eval.api.request import Origin


class FailureKind(str, Enum):
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    REJECTED = "rejected"  # a 4xx other than 429: retrying would not help
    BAD_RESPONSE = "bad_response"  # the reply could not be understood
    BACKEND = "backend"  # the backend itself raised
    BAD_INPUT = "bad_input"  # the doc's inputs could not be built (an image that does not decode): never sent


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    attempts: int


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __post_init__(self) -> None:
        for name in ("prompt_tokens", "completion_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TypeError(f"usage {name} must be a count of tokens, not {value!r}")

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)


@dataclass(frozen=True)
class LoglikelihoodScore:
    logprob: float
    is_greedy: bool


@dataclass(frozen=True)
class Response:
    """Exactly one of `text`, `loglikelihood` or `failure` is set.

    A failure is never turned into text: scoring skips it and the report counts it.
    """

    key: str
    origin: Origin
    text: str | None = None
    loglikelihood: LoglikelihoodScore | None = None
    failure: Failure | None = None
    usage: Usage | None = None
    endpoint: str | None = None  # the server that answered, when a backend spreads over several
    attempts: int = 1  # of an answer: tries it took (a failure carries its own in `failure`)

    def __post_init__(self) -> None:
        # Checked here, where every backend, the store and rescore build responses, so that
        # a reply that is not text (a number, a list of parts) can never reach scoring.
        answers = [value for value in (self.text, self.loglikelihood, self.failure) if value is not None]
        if len(answers) != 1:
            raise ValueError(f"response {self.key}: exactly one of text, loglikelihood and failure must be set, not {len(answers)}")
        _require(self, "text", str)
        _require(self, "loglikelihood", LoglikelihoodScore)
        _require(self, "failure", Failure)
        _require(self, "usage", Usage)
        _require(self, "endpoint", str)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def value(self) -> str | LoglikelihoodScore:
        """The answer, for scoring; asking a failed response for it is a bug."""
        if self.failure is not None:
            raise ValueError(f"request {self.key} failed: {self.failure.message}")
        answer = self.text if self.text is not None else self.loglikelihood
        assert answer is not None
        return answer

    @classmethod
    def generated(cls, request, text: str, usage: Usage | None = None, attempts: int = 1) -> Response:
        return cls(key=request.key, origin=request.origin, text=text, usage=usage, attempts=attempts)

    @classmethod
    def scored(cls, request, logprob: float, is_greedy: bool) -> Response:
        return cls(key=request.key, origin=request.origin, loglikelihood=LoglikelihoodScore(logprob, is_greedy))

    @classmethod
    def failed(cls, request, kind: FailureKind, message: str, attempts: int = 1) -> Response:
        return cls(key=request.key, origin=request.origin, failure=Failure(kind, message, attempts))


def _require(response: Response, name: str, kind: type) -> None:
    value = getattr(response, name)
    if value is not None and not isinstance(value, kind):
        raise TypeError(f"response {response.key}: {name} must be {kind.__name__}, not {type(value).__name__}")
