"""ChatMessages: building, parsing lmms-eval's message dicts, and the OpenAI format."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from lmms_eval.api.media import media_digest
from lmms_eval.api.messages import ChatMessages, ContentPart, Message, image_data_url, to_openai

RED = (220, 30, 30)


def red(size: int = 4, mode: str = "RGB") -> Image.Image:
    return Image.new("RGB", (size, size), RED).convert(mode)


def decode(url: str) -> Image.Image:
    header, _, payload = url.partition(",")
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_build_puts_media_first_then_text():
    image = red()
    messages = ChatMessages.build("What colour?", [image])
    assert messages.messages == (Message("user", (ContentPart("image", media=image), ContentPart("text", text="What colour?"))),)
    assert messages.media() == [image]


def test_build_with_a_system_prompt():
    messages = ChatMessages.build("Hi", system="Be brief.")
    assert [message.role for message in messages] == ["system", "user"]
    assert messages.messages[0].text == "Be brief."
    assert messages.messages[1].content == (ContentPart("text", text="Hi"),)


def test_build_sorts_media_kinds(tmp_path):
    audio = {"array": np.zeros(3), "sampling_rate": 16000}
    video = str(tmp_path / "clip.mp4")
    parts = ChatMessages.build("Describe", [red(), audio, video]).messages[0].content
    assert [part.type for part in parts] == ["image", "audio", "video", "text"]


def test_from_dicts_parses_strings_and_typed_parts():
    image = red()
    raw = [
        {"role": "system", "content": "You see colours."},
        {"role": "user", "content": [{"type": "image", "url": image}, {"type": "text", "text": "Which?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "red"}]},
        {"role": "user", "content": [{"type": "audio", "audio": "a.wav"}, {"type": "video", "url": "v.mp4"}]},
    ]
    messages = ChatMessages.from_dicts(raw)
    assert messages.messages == (
        Message("system", (ContentPart("text", text="You see colours."),)),
        Message("user", (ContentPart("image", media=image), ContentPart("text", text="Which?"))),
        Message("assistant", (ContentPart("text", text="red"),)),
        Message("user", (ContentPart("audio", media="a.wav"), ContentPart("video", media="v.mp4"))),
    )
    assert messages.media() == [image, "a.wav", "v.mp4"]


def test_from_dicts_rejects_unknown_part_types():
    with pytest.raises(ValueError, match="unknown message content type 'image_url'"):
        ChatMessages.from_dicts([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}])


def test_message_text_joins_text_parts():
    message = Message("user", (ContentPart("text", text="a"), ContentPart("image", media=red()), ContentPart("text", text="b")))
    assert message.text == "a\nb"


def test_with_system_prepends_once():
    messages = ChatMessages.build("Hi")
    with_system = messages.with_system("Rules.")
    assert [message.role for message in with_system] == ["system", "user"]
    assert with_system.messages[0].content == (ContentPart("text", text="Rules."),)
    assert with_system.with_system("Other rules.") is with_system  # an existing system prompt wins
    assert messages.with_system(None) is messages
    assert messages.with_system("") is messages


def test_describe_replaces_media_by_digest():
    image = red()
    described = ChatMessages.build("Hi", [image], system="S").describe()
    assert described == [
        {"role": "system", "content": [{"type": "text", "text": "S"}]},
        {"role": "user", "content": [{"type": "image", "digest": media_digest(image)}, {"type": "text", "text": "Hi"}]},
    ]


def test_to_openai_shape():
    messages = ChatMessages.from_dicts(
        [
            {"role": "system", "content": "Rules."},
            {"role": "user", "content": [{"type": "image", "url": red()}, {"type": "text", "text": "Which?"}]},
            {"role": "assistant", "content": "red"},
        ]
    )
    converted = to_openai(messages)
    assert converted[0] == {"role": "system", "content": [{"type": "text", "text": "Rules."}]}
    assert converted[2] == {"role": "assistant", "content": [{"type": "text", "text": "red"}]}
    image_part, text_part = converted[1]["content"]
    assert converted[1]["role"] == "user"
    assert text_part == {"type": "text", "text": "Which?"}
    assert image_part["type"] == "image_url"
    assert image_part["image_url"]["url"].startswith("data:image/png;base64,")
    assert decode(image_part["image_url"]["url"]).convert("RGB").getpixel((0, 0)) == RED



def test_to_openai_refuses_an_image_that_is_not_a_pil_image():
    messages = ChatMessages.from_dicts([{"role": "user", "content": [{"type": "image", "url": "https://example.com/a.png"}]}])
    with pytest.raises(ValueError, match="needs images as PIL images, not str"):
        to_openai(messages)


def test_png_data_url_is_lossless():
    image = Image.new("RGB", (3, 2))
    image.putdata([(1, 2, 3), (4, 5, 6), (7, 8, 9), (10, 11, 12), (13, 14, 15), (16, 17, 18)])
    decoded = decode(image_data_url(image))
    assert decoded.format == "PNG"
    assert decoded.tobytes() == image.tobytes()


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L"])
def test_png_keeps_modes_it_can_store(mode):
    assert decode(image_data_url(red(mode=mode))).mode == mode


@pytest.mark.parametrize("mode", ["CMYK", "I", "F"])
def test_png_converts_other_modes_to_rgb(mode):
    assert decode(image_data_url(red(mode=mode))).mode == "RGB"


@pytest.mark.parametrize("mode, sent", [("RGBA", "RGB"), ("P", "RGB"), ("L", "L"), ("RGB", "RGB")])
def test_jpeg_data_url(mode, sent):
    url = image_data_url(red(mode=mode), "JPEG")
    assert url.startswith("data:image/jpeg;base64,")
    decoded = decode(url)
    assert (decoded.format, decoded.mode) == ("JPEG", sent)


# --- the fast PNG writer (plain 8-bit images) -------------------------------------------


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (1, 5), (7, 1), (13, 9), (64, 48)])
def test_plain_images_decode_to_exactly_their_pixels(mode, size):
    import numpy as np

    channels = len(mode)
    pixels = np.random.default_rng(sum(size) + channels).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(pixels[:, :, 0] if channels == 1 else pixels, mode=mode)
    decoded = decode(image_data_url(image))
    assert (decoded.format, decoded.mode, decoded.size) == ("PNG", mode, size)
    assert decoded.tobytes() == image.tobytes()


def test_plain_images_are_not_encoded_by_pillow(monkeypatch):
    """Pillow's PNG writer tries five filters per row: four times slower, and most of the
    client's CPU at 2,000 images a run."""
    image = Image.new("RGB", (32, 32), (10, 200, 30))

    def no_pillow(*args, **kwargs):
        raise AssertionError("Pillow's encoder was used")

    monkeypatch.setattr(Image.Image, "save", no_pillow)
    assert decode(image_data_url(image)).getpixel((5, 5)) == (10, 200, 30)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (4, 4), (1, 2, 3)),
        Image.new("L", (4, 4), 9),
    ],
    ids=["RGB", "L"],
)
def test_images_with_a_profile_or_transparency_colour_keep_them(image):
    with_transparency = image.copy()
    with_transparency.info["transparency"] = (1, 2, 3) if image.mode == "RGB" else 9
    assert decode(image_data_url(with_transparency)).info["transparency"] == with_transparency.info["transparency"]
    profiled = image.copy()
    profiled.info["icc_profile"] = b"not really a profile, carried as it is"
    assert decode(image_data_url(profiled)).info["icc_profile"] == profiled.info["icc_profile"]
