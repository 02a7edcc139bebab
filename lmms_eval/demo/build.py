"""The demo model's parts: a byte-level BPE tokenizer trained in-process on the scene
questions, a LLaVA processor (CLIP image processing, a LLaVA-style chat template) and an
untrained `LlavaForConditionalGeneration` (CLIP vision tower + llama text model).

The image is 32x32 and the vision patches are 16x16, so an image becomes 4 image tokens
(the CLS token is dropped, as LLaVA's "default" feature selection does).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from lmms_eval.demo import scenes

SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
# LLaVA-1.5's conversation layout: "USER: <image>\n{text}\nASSISTANT:"; an answer follows
# as " {answer}</s>" (a space, as in the loglikelihood continuation target_delimiter + choice).
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'].upper() }}: "
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% if message['role'] == 'assistant' %}</s>{% endif %}{{ '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
VOCAB_SIZE = 640  # an upper bound: BPE stops when no pair is left to merge (446 tokens)
PATCH = 16

VISION = dict(
    model_type="clip_vision_model",
    hidden_size=96,
    intermediate_size=256,
    num_hidden_layers=2,
    num_attention_heads=4,
    image_size=scenes.SIZE,
    patch_size=PATCH,
    projection_dim=96,
)
TEXT = dict(
    model_type="llama",
    hidden_size=96,
    intermediate_size=288,
    num_hidden_layers=3,
    num_attention_heads=4,
    num_key_value_heads=4,
    max_position_embeddings=256,
    tie_word_embeddings=True,
    rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
    # Wider than the usual 0.02: attention is sharp from the start, and the circuits the
    # questions need (look up a cell, compare, count) form in hundreds of steps, not
    # thousands.
    initializer_range=0.1,
)


def tokenizer_corpus(count: int = 4000) -> list[str]:
    """Every word the scenes use, in the sentences they appear in (a seed of its own)."""
    rng = random.Random("tokenizer")
    texts = ["USER: ASSISTANT:", "yes no", " ".join(scenes.LETTERS)]
    for _, question in itertools.islice(scenes.training_examples(seed=rng.randrange(10**9)), count):
        texts.append(f"USER: {question.prompt}\nASSISTANT: {question.answer}")
    return texts


def build_tokenizer() -> Any:
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    bpe.train_from_iterator(tokenizer_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=["<image>"],
        chat_template=CHAT_TEMPLATE,
        model_max_length=TEXT["max_position_embeddings"],
    )


def build_processor(tokenizer: Any) -> Any:
    from transformers import LlavaProcessor
    from transformers.models.clip import CLIPImageProcessorPil

    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": scenes.SIZE}, crop_size={"height": scenes.SIZE, "width": scenes.SIZE}
    )
    return LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=CHAT_TEMPLATE,
    )


def build_model(tokenizer: Any) -> Any:
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    config = LlavaConfig(
        vision_config=dict(VISION),
        text_config=dict(
            TEXT,
            vocab_size=len(tokenizer),
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        image_seq_length=(scenes.SIZE // PATCH) ** 2,
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
        tie_word_embeddings=True,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    return model
