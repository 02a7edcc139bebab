"""Asking a judge: every question of a task at once through the engine's concurrent
inference, answers kept in the response store under the judge's own identity.

A judge question's store key covers the judge (backend, model, answer-changing args),
the benchmark's prompt template hash, the full judge prompt (so the judged answer), the
temperature and the repeat index. A re-run or a rescore therefore asks nothing it asked
before, re-asks at higher temperatures included (those pin a seed, so they are
reusable). A failed call is never stored: it comes back as a Response with a Failure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.api.response import Response
from lmms_eval.config import typed_model_args
from lmms_eval.judge import JudgeSpec

#: Sampled re-asks pin this seed so their answers are reusable (and part of their key).
ESCALATION_SEED = 0
#: A question's stored index is `round * ROUND_STRIDE + question.repeat`: round 0 keeps the
#: keys of a run without --judge_repeats, and a task's own indices stay below the stride.
ROUND_STRIDE = 1000


def template_hash(template: str) -> str:
    """Recorded in results and part of every judge answer's key."""
    return hashlib.sha256(template.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class JudgeQuestion:
    """One prompt about one doc. `repeat` numbers a doc's questions when a benchmark asks
    several (0 otherwise); the --judge_repeats round is the Judge's (`Judge.round`), added to
    the stored key by the Judge, so benchmarks need not handle it. `system` is the
    benchmark's system message, if its protocol has one (part of the stored key)."""

    doc_id: int
    prompt: str
    repeat: int = 0
    system: str | None = None


@dataclass
class JudgeStats:
    """What results record about a task's judging."""

    calls: int = 0  # asked of the judge in this run (stored answers not counted)
    from_store: int = 0
    failures: int = 0
    retries: int = 0  # extra attempts of failed calls (the backend's retries)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def count(self, response: Response, stored: bool) -> None:
        if stored:
            self.from_store += 1
            return
        self.calls += 1
        if response.failure is not None:
            self.failures += 1
            self.retries += max(response.failure.attempts - 1, 0)
        if response.usage is not None:
            self.prompt_tokens += response.usage.prompt_tokens
            self.completion_tokens += response.usage.completion_tokens


@dataclass
class Judge:
    """One task's judge. The backend is built at the first question, after the evaluated
    model has been released; `store` is the run's ResponseStore (or None). `repeats` is the
    run's --judge_repeats; the judge stage scores the task once per `round` (0..repeats-1),
    and each round's answers are stored under their own keys."""

    spec: JudgeSpec
    task: str
    template: str
    temperature: float = 0.0
    max_tokens: int = 1024
    store: Any = None
    repeats: int = 1
    round: int = 0
    stats: JudgeStats = field(default_factory=JudgeStats)
    _model: Any = None
    _cache: Any = None

    @property
    def template_hash(self) -> str:
        return template_hash(self.template)

    def entry(self) -> dict[str, Any]:
        """The per-task judge entry of the results JSON."""
        public = self.spec.public()
        return {
            "model": self.spec.model,
            "backend": self.spec.backend,
            "endpoint": public.get("base_url"),
            "prompt_template_hash": self.template_hash,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "calls": self.stats.calls,
            "from_store": self.stats.from_store,
            "failures": self.stats.failures,
            "retries": self.stats.retries,
            "tokens": {"prompt": self.stats.prompt_tokens, "completion": self.stats.completion_tokens},
        }

    def ask(self, questions: Iterable[JudgeQuestion], temperature: float | None = None) -> dict[tuple[int, int], Response]:
        """Every question asked concurrently; answers by (doc id, repeat)."""
        from lmms_eval.engine.inference import run_inference

        model = self._backend()
        requests = [self._request(question, self.temperature if temperature is None else temperature) for question in questions]
        before = {request.key for request in requests if self._cache is not None and self._cache.lookup(request) is not None}
        answered = run_inference(model, RequestType.GENERATE_UNTIL, requests, None, self._cache)
        results: dict[tuple[int, int], Response] = {}
        for (doc_id, index), response in answered.responses.items():
            self.stats.count(response, stored=response.key in before)
            results[(doc_id, index - self.round * ROUND_STRIDE)] = response
        return results

    def ask_escalating(
        self, questions: list[JudgeQuestion], parses: Callable[[str], bool], temperatures: Iterable[float]
    ) -> dict[tuple[int, int], Response]:
        """Ask at the first temperature; questions whose reply `parses` rejects are asked
        again at each next one. The last reply stands (the benchmark's rule scores it)."""
        pending = list(questions)
        final: dict[tuple[int, int], Response] = {}
        for temperature in temperatures:
            if not pending:
                break
            replies = self.ask(pending, temperature)
            final.update(replies)
            pending = [q for q in pending if replies[(q.doc_id, q.repeat)].ok and not parses(replies[(q.doc_id, q.repeat)].text or "")]
        return final

    def _request(self, question: JudgeQuestion, temperature: float) -> Request:
        gen_kwargs: dict[str, Any] = {"temperature": temperature, "max_new_tokens": self.max_tokens}
        if temperature > 0:
            gen_kwargs["seed"] = ESCALATION_SEED
        if not 0 <= question.repeat < ROUND_STRIDE:
            raise ValueError(f"task {self.task}: judge question repeat {question.repeat} is outside 0..{ROUND_STRIDE - 1}")
        origin = Origin(f"{self.task}:judge", question.doc_id, self.round * ROUND_STRIDE + question.repeat)
        return Request(RequestType.GENERATE_UNTIL, origin, ChatMessages.build(question.prompt, system=question.system), gen_kwargs=gen_kwargs, task_hash=self.template_hash)

    def _backend(self) -> Any:
        if self._model is None:
            from lmms_eval.engine.inference import ResponseCache
            from lmms_eval.models import MODELS
            from lmms_eval.store.identity import model_identity

            backend_class = MODELS.get(self.spec.backend)
            args = typed_model_args(backend_class, dict(self.spec.args), "--judge_args")
            self._model = backend_class.create(args)
            if self.store is not None:
                self._cache = ResponseCache(self.store, model_identity(self.spec.backend, backend_class, args, self._model))
        return self._model

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
