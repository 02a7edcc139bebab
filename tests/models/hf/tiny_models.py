"""Tiny random-weight transformers models, built offline for the backend tests.

Each has a tokenizer trained in-process and hidden size 64; weights are initialised with
a wide spread so that answers depend on the input (a model that always says the same
thing would make batched-equals-unbatched checks vacuous).
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A photo of a red square on a white background.",
    "What colour is this image? Answer with one word.",
    "user assistant system yes no cat dog car tree red green blue purple 0 1 2 3 4 5 6 7 8 9",
    "The capital of France is Paris. The capital of England is London.",
] * 40

TEXT = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=4096, tie_word_embeddings=True, initializer_range=0.5)

QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLAVA_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
LLAVA_TEMPLATE = (
    "{% for message in messages %}{{ message['role'].upper() }}: "
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}\n{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
IDEFICS3_SPECIALS = ["<unk>", "<s>", "</s>", "<pad>", "<image>", "<fake_token_around_image>", "<global-img>", "<end_of_utterance>"]
IDEFICS3_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}: "
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% elif part['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def _bpe(specials: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    return tokenizer


def _fast_tokenizer(specials: list[str], template: str, **tokens):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=_bpe(specials), chat_template=template, **tokens)


def build_qwen2_5_vl(folder: Path) -> Path:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessorPil, Qwen2VLVideoProcessor

    tokenizer = _fast_tokenizer(QWEN_SPECIALS, QWEN_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=QWEN_SPECIALS[1:])
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in QWEN_SPECIALS}
    rope = {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0}
    vision = dict(depth=2, hidden_size=32, out_hidden_size=64, intermediate_size=64, num_heads=2, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1], initializer_range=0.5)
    text = dict(TEXT, vocab_size=len(tokenizer), rope_parameters=rope, head_dim=16, bos_token_id=None,
                eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"])
    config = Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                              vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    pixels = dict(min_pixels=4 * 28**2, max_pixels=64 * 28**2)
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(patch_size=14, merge_size=2, temporal_patch_size=2, **pixels),
        video_processor=Qwen2VLVideoProcessor(patch_size=14, merge_size=2, temporal_patch_size=2,
                                              size={"shortest_edge": pixels["min_pixels"], "longest_edge": pixels["max_pixels"]}),
        tokenizer=tokenizer, chat_template=QWEN_TEMPLATE,
    )
    return _save(Qwen2_5_VLForConditionalGeneration(config), processor, folder / "qwen2_5_vl", ids["<|im_end|>"], ids["<|endoftext|>"])


def build_llava(folder: Path) -> Path:
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor
    from transformers.models.clip import CLIPImageProcessorPil

    tokenizer = _fast_tokenizer(LLAVA_SPECIALS, LLAVA_TEMPLATE, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                additional_special_tokens=["<image>"])
    config = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=56, patch_size=14, projection_dim=32, initializer_range=0.5),
        text_config=dict(TEXT, model_type="llama", vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_layer=-1, vision_feature_select_strategy="default",
    )
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(size={"shortest_edge": 56}, crop_size={"height": 56, "width": 56}),
        tokenizer=tokenizer, patch_size=14, vision_feature_select_strategy="default", num_additional_image_tokens=1, chat_template=LLAVA_TEMPLATE,
    )
    return _save(LlavaForConditionalGeneration(config), processor, folder / "llava", tokenizer.eos_token_id, tokenizer.pad_token_id)


def build_idefics3(folder: Path) -> Path:
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor
    from transformers.models.idefics3 import Idefics3ImageProcessorPil

    tokenizer = _fast_tokenizer(IDEFICS3_SPECIALS, IDEFICS3_TEMPLATE, unk_token="<unk>", bos_token="<s>", eos_token="<end_of_utterance>",
                                pad_token="<pad>", additional_special_tokens=IDEFICS3_SPECIALS[4:])
    config = Idefics3Config(
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=56, patch_size=14, initializer_range=0.5),
        text_config=dict(TEXT, model_type="llama", vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"), scale_factor=2, tie_word_embeddings=True,
    )
    processor = Idefics3Processor(
        image_processor=Idefics3ImageProcessorPil(do_image_splitting=False, size={"longest_edge": 56}, max_image_size={"longest_edge": 56}),
        tokenizer=tokenizer, image_seq_len=4, chat_template=IDEFICS3_TEMPLATE,
    )
    return _save(Idefics3ForConditionalGeneration(config), processor, folder / "idefics3", tokenizer.eos_token_id, tokenizer.pad_token_id)


def build_text_lm(folder: Path) -> Path:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = _fast_tokenizer(QWEN_SPECIALS, QWEN_TEMPLATE, eos_token="<|im_end|>", pad_token="<|endoftext|>", additional_special_tokens=QWEN_SPECIALS[1:])
    config = Qwen2Config(**TEXT, vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return _save(Qwen2ForCausalLM(config), tokenizer, folder / "text_lm", tokenizer.eos_token_id, tokenizer.pad_token_id)


def _save(model, processor, folder: Path, eos_id: int, pad_id: int) -> Path:
    import torch

    torch.manual_seed(0)
    model.init_weights() if hasattr(model, "init_weights") else None
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = pad_id
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
