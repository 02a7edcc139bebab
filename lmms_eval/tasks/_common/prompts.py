"""Prompt pieces several library tasks share."""

from __future__ import annotations

from typing import Any

# MME's (and MMStar's) questions end with this; it is dropped when the prompt adds its own instruction.
YES_NO_INSTRUCTION = " Please answer yes or no."


def first_image(doc: dict[str, Any]) -> list[Any]:
    """The doc's `image` column, as the one RGB image of the request."""
    return [doc["image"].convert("RGB")]


def question_with_instruction(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question; a non-empty pre/post prompt replaces the built-in yes/no instruction."""
    kwargs = lmms_eval_specific_kwargs or {}
    question = doc["question"].strip()
    pre_prompt = kwargs.get("pre_prompt") or ""
    post_prompt = kwargs.get("post_prompt") or ""
    if pre_prompt or post_prompt:
        question = question.replace(YES_NO_INSTRUCTION, "")
    return f"{pre_prompt}{question}{post_prompt}"


def image_if_any(doc: dict[str, Any]) -> list[Any]:
    """The doc's `image` column as one RGB image; no image when the column is missing or empty."""
    image = doc.get("image")
    return [image.convert("RGB")] if image is not None else []


def question_between_prompts(doc: dict[str, Any], lmms_eval_specific_kwargs: dict[str, Any] | None = None) -> str:
    """The question as it is, between the (possibly empty) pre and post prompts."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '') or ''}{doc['question']}{kwargs.get('post_prompt', '') or ''}"
