"""`OpenAIVerifier` (lmms-eval's `lmms_eval.verifiers.openai`): a judge's verdict on a
prediction. The judge server is made lazily (no key or connection at construction)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from lmms_eval.verifiers import VerifyResult


class OpenAIVerifier:
    def __init__(
        self,
        model: str = "gpt-4o-2024-11-20",
        api_type: str | None = None,
        judge_type: str = "binary",
        custom_prompt: str | Callable[..., str] | None = None,
        response_format: str = "binary",
        response_parser: Callable[[str], Any] | None = None,
        score_range: tuple[float, float] = (0.0, 10.0),
        max_retries: int = 5,
        retry_delay: float = 2.0,
        temperature: float = 0.0,
        max_tokens: int = 1024,
    ) -> None:
        from lmms_eval.llm_judge import ServerConfig, get_server

        config = ServerConfig(model_name=model, temperature=temperature, max_tokens=max_tokens, num_retries=max_retries, judge_type=judge_type, score_range=score_range)
        self.server = get_server(api_type or os.environ.get("API_TYPE", "openai"), config)
        self.custom_prompt = custom_prompt
        self.response_parser = response_parser

    def verify(self, question: str, prediction: str, ground_truth: Any, **kwargs: Any) -> VerifyResult:
        """A judge failure (an exception or success=False) scores 0.0 with judge_failed set."""
        try:
            if self.custom_prompt is not None and self.response_parser is not None:
                return self._custom(question, prediction, ground_truth, **kwargs)
            verdict = self.server.evaluate_binary(question=question, answer=str(ground_truth), prediction=prediction)
        except Exception as error:  # noqa: BLE001 - lmms-eval's contract: any judge error is a failed verdict
            return VerifyResult(0.0, False, "", {"judge_failed": True, "error": str(error)})
        if not verdict["success"]:
            return VerifyResult(0.0, False, verdict["raw_response"], {"judge_failed": True})
        correct = bool(verdict["result"])
        return VerifyResult(float(correct), correct, verdict["raw_response"])

    def _custom(self, question: str, prediction: str, ground_truth: Any, **kwargs: Any) -> VerifyResult:
        from lmms_eval.llm_judge import Request

        prompt = self.custom_prompt(question, prediction, ground_truth, **kwargs) if callable(self.custom_prompt) else self.custom_prompt.format(question=question, prediction=prediction, pred=prediction, answer=ground_truth, ground_truth=ground_truth, **kwargs)
        reply = self.server.evaluate(Request(messages=[{"role": "user", "content": prompt}]))
        if not reply.success:
            return VerifyResult(0.0, False, reply.content, {"judge_failed": True})
        score = float(self.response_parser(reply.content))
        return VerifyResult(score, score > 0, reply.content)
