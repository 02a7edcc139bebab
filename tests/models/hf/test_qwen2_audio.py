"""qwen2_audio on a tiny random-weight Qwen2-Audio built offline: the clip reaches the model
as input_features, resampled to the feature extractor's 16 kHz."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_models import TEXT, _fast_tokenizer

from lmms_eval.api.messages import ChatMessages
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.models import MODELS

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]
TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_qwen2_audio(tmp_path_factory):
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, Qwen2AudioProcessor, WhisperFeatureExtractor

    tokenizer = _fast_tokenizer(SPECIALS, TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=SPECIALS[1:])
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIALS}
    audio = dict(d_model=32, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64, num_mel_bins=80, max_source_positions=1500)
    text = {key: value for key, value in TEXT.items() if key != "tie_word_embeddings"}
    text.update(vocab_size=len(tokenizer), eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    config = Qwen2AudioConfig(audio_config=audio, text_config=text, audio_token_index=ids["<|AUDIO|>"])
    torch.manual_seed(0)
    model = Qwen2AudioForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    processor = Qwen2AudioProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer, chat_template=TEMPLATE)
    folder = tmp_path_factory.mktemp("qwen2_audio")
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_audio_reaches_the_model_as_input_features(tiny_qwen2_audio, monkeypatch):
    model = MODELS.get("qwen2_audio").create({"pretrained": str(tiny_qwen2_audio)}, batch_size=1)
    seen = []
    original = model.model.generate

    def spy(**inputs):
        seen.append(inputs)
        return original(**inputs)

    monkeypatch.setattr(model.model, "generate", spy)
    t = np.arange(8000) / 8000
    clip = {"array": np.sin(2 * np.pi * 300 * t).astype(np.float32), "sampling_rate": 8000}  # 1 s at 8 kHz
    request = Request(RequestType.GENERATE_UNTIL, Origin("t", 0), ChatMessages.build("Transcribe:", [clip]), gen_kwargs={"max_new_tokens": 3})
    [response] = list(model.generate_until([request]))
    assert response.failure is None and isinstance(response.text, str)
    [inputs] = seen
    assert inputs["input_features"].shape[:2] == (1, 80)
    # 1 s resampled to 16 kHz = 100 mel frames marked valid (hop 160)
    assert int(inputs["feature_attention_mask"].sum()) == 100
    assert inputs["input_features"].abs().sum() > 0
