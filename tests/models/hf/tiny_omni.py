"""A tiny random-weight Qwen2.5-Omni thinker (text out; audio, image and video in), built offline."""

from __future__ import annotations

from pathlib import Path

from tiny_models import TEXT, _bpe, _save

OMNI_TOKENS = {
    "image_token": "<|IMAGE|>", "video_token": "<|VIDEO|>", "audio_token": "<|AUDIO|>",
    "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
    "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>",
}
OMNI_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *OMNI_TOKENS.values()]
OMNI_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_bos|><|IMAGE|><|vision_eos|>"
    "{% elif part['type'] == 'video' %}<|vision_bos|><|VIDEO|><|vision_eos|>"
    "{% elif part['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_qwen2_5_omni(folder: Path) -> Path:
    from transformers import PreTrainedTokenizerFast, Qwen2_5OmniProcessor, Qwen2_5OmniThinkerConfig, Qwen2_5OmniThinkerForConditionalGeneration, WhisperFeatureExtractor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil, Qwen2VLVideoProcessor

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=_bpe(OMNI_SPECIALS), chat_template=OMNI_TEMPLATE, eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", extra_special_tokens=OMNI_TOKENS)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in OMNI_SPECIALS}
    rope = {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0}
    config = Qwen2_5OmniThinkerConfig(
        text_config=dict(TEXT, vocab_size=len(tokenizer), rope_parameters=rope, head_dim=16, eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(depth=2, hidden_size=32, out_hidden_size=64, intermediate_size=64, num_heads=2, patch_size=14, spatial_merge_size=2,
                           temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1], initializer_range=0.5),
        audio_config=dict(num_mel_bins=16, encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=64, d_model=32, output_dim=64,
                          max_source_positions=1500, n_window=100, initializer_range=0.5),
        audio_token_index=ids["<|AUDIO|>"], image_token_index=ids["<|IMAGE|>"], video_token_index=ids["<|VIDEO|>"],
        audio_start_token_id=ids["<|audio_bos|>"], audio_end_token_id=ids["<|audio_eos|>"],
        vision_start_token_id=ids["<|vision_bos|>"], vision_end_token_id=ids["<|vision_eos|>"],
    )
    budget = dict(min_pixels=4 * 28**2, max_pixels=64 * 28**2)
    processor = Qwen2_5OmniProcessor(
        image_processor=Qwen2VLImageProcessorPil(patch_size=14, merge_size=2, temporal_patch_size=2, **budget),
        video_processor=Qwen2VLVideoProcessor(patch_size=14, merge_size=2, temporal_patch_size=2, size={"shortest_edge": budget["min_pixels"], "longest_edge": budget["max_pixels"]}),
        feature_extractor=WhisperFeatureExtractor(feature_size=16, sampling_rate=16000),
        tokenizer=tokenizer, chat_template=OMNI_TEMPLATE,
    )
    return _save(Qwen2_5OmniThinkerForConditionalGeneration(config), processor, folder / "qwen2_5_omni", ids["<|im_end|>"], ids["<|endoftext|>"])
