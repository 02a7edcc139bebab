"""Tiny random-weight video-language models (Qwen3-VL, LLaVA-OneVision), built offline.

The same recipe as tiny_models.py: a tokenizer trained in-process, hidden size 64, two layers.
"""

from __future__ import annotations

from pathlib import Path

from tiny_models import QWEN_SPECIALS, QWEN_TEMPLATE, TEXT, _fast_tokenizer, _save

ONEVISION_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
ONEVISION_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'video' %}<video>\n"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_qwen3_vl(folder: Path) -> Path:
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil
    from transformers.models.qwen3_vl import Qwen3VLVideoProcessor

    tokenizer = _fast_tokenizer(QWEN_SPECIALS, QWEN_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=QWEN_SPECIALS[1:])
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIALS}
    rope = {"rope_type": "default", "mrope_section": [2, 3, 3], "mrope_interleaved": True, "rope_theta": 10000.0}
    vision = dict(depth=2, hidden_size=32, out_hidden_size=64, intermediate_size=64, num_heads=2, patch_size=16, spatial_merge_size=2,
                  temporal_patch_size=2, num_position_embeddings=64, deepstack_visual_indexes=[1], initializer_range=0.5)
    text = dict(TEXT, vocab_size=len(tokenizer), rope_parameters=rope, head_dim=16, bos_token_id=None,
                eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    config = Qwen3VLConfig(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                           vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    budget = dict(shortest_edge=4 * 32**2, longest_edge=64 * 32**2)
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(patch_size=16, merge_size=2, temporal_patch_size=2, min_pixels=budget["shortest_edge"], max_pixels=budget["longest_edge"]),
        video_processor=Qwen3VLVideoProcessor(patch_size=16, merge_size=2, temporal_patch_size=2, size=budget),
        tokenizer=tokenizer, chat_template=QWEN_TEMPLATE,
    )
    return _save(Qwen3VLForConditionalGeneration(config), processor, folder / "qwen3_vl", ids["<|im_end|>"], ids["<|endoftext|>"])


def build_llava_onevision(folder: Path) -> Path:
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, LlavaOnevisionProcessor
    from transformers.models.llava_onevision import LlavaOnevisionImageProcessorPil, LlavaOnevisionVideoProcessor

    tokenizer = _fast_tokenizer(ONEVISION_SPECIALS, ONEVISION_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                additional_special_tokens=ONEVISION_SPECIALS[1:])
    size = {"height": 28, "width": 28}
    config = LlavaOnevisionConfig(
        vision_config=dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=28, patch_size=14, initializer_range=0.5),
        text_config=dict(TEXT, model_type="qwen2", vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"), video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        vision_feature_layer=-1, vision_feature_select_strategy="full", image_grid_pinpoints=[[28, 28]],
    )
    processor = LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessorPil(size=size, image_grid_pinpoints=[[28, 28]]),
        video_processor=LlavaOnevisionVideoProcessor(size=size),
        tokenizer=tokenizer, num_image_tokens=4, vision_feature_select_strategy="full", chat_template=ONEVISION_TEMPLATE,
    )
    return _save(LlavaOnevisionForConditionalGeneration(config), processor, folder / "llava_onevision", tokenizer.eos_token_id, tokenizer.pad_token_id)
