"""lmms_eval.verifiers: the pipeline, the reasoning stripper and OpenAIVerifier against the local server."""

from __future__ import annotations

import pytest

from lmms_eval.verifiers import VerificationPipeline, VerifyResult
from lmms_eval.verifiers.extractors import StripReasoningExtractor
from lmms_eval.verifiers.openai import OpenAIVerifier


def test_strip_reasoning() -> None:
    extractor = StripReasoningExtractor()
    assert extractor.extract("<think>hmm</think> B") == "B"
    assert extractor.extract(None) == "" and extractor.extract(3) == "3"


def test_pipeline_needs_a_verifier_and_records_predictions() -> None:
    with pytest.raises(ValueError):
        VerificationPipeline()

    class Exact:
        def verify(self, question, prediction, ground_truth, **kwargs):
            return VerifyResult(float(prediction == ground_truth), prediction == ground_truth)

    result = VerificationPipeline([StripReasoningExtractor()], Exact())("q", "<think>x</think>B", "B")
    assert result.is_correct and result.metadata == {"raw_prediction": "<think>x</think>B", "extracted_prediction": "B"}


def test_openai_verifier_needs_no_key_until_asked(start_oracle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    verifier = OpenAIVerifier(model="judge-model")
    server = start_oracle(model_name="judge-model", canned={"Model answer: right": "1", "Model answer: wrong": "0"})
    monkeypatch.setenv("OPENAI_API_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    assert verifier.verify("q", "right", "a").is_correct
    assert verifier.verify("q", "wrong", "a").score == 0.0
