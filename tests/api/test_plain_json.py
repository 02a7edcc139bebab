"""json_bytes gives exactly json.dumps's bytes, with base64 text copied in whole."""

import base64
import json

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from lmms_eval.api.messages import ChatMessages, image_data_url, to_openai, wav_base64
from lmms_eval.api.plain_json import _STAND_IN, JsonSafeText, json_bytes

base64_text = st.binary(max_size=300).map(lambda data: JsonSafeText(base64.b64encode(data).decode("ascii")))
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | base64_text | st.just(_STAND_IN)
payloads = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(payloads)
def test_the_same_bytes_as_json_dumps(payload):
    assert json_bytes(payload) == json.dumps(payload).encode("utf-8")


def test_text_that_holds_the_stand_in_is_encoded_as_it_is():
    payload = {"text": f"before {_STAND_IN} after", "image": JsonSafeText("QUJD")}
    assert json_bytes(payload) == json.dumps(payload).encode("utf-8")
    assert json.loads(json_bytes(payload)) == payload


def test_data_urls_and_audio_are_marked():
    image = Image.new("RGB", (4, 4), "red")
    assert isinstance(image_data_url(image), JsonSafeText)
    assert isinstance(image_data_url(image, "JPEG"), JsonSafeText)
    assert isinstance(wav_base64({"array": [0.0, 0.5, -0.5], "sampling_rate": 16000}), JsonSafeText)


def test_a_mime_type_json_escapes_is_not_marked():
    assert isinstance(JsonSafeText.data_url("video/mp4", "QUJD"), JsonSafeText)
    unmarked = JsonSafeText.data_url('video/"odd"', "QUJD")
    assert unmarked == 'data:video/"odd";base64,QUJD' and not isinstance(unmarked, JsonSafeText)


def test_an_openai_body_with_images_matches_json_dumps():
    messages = ChatMessages.build("Which colour? \"quoted\" é", [Image.new("RGB", (8, 8), "blue"), Image.new("L", (3, 5), 7)])
    payload = {"model": "m", "messages": to_openai(messages), "max_tokens": 8}
    assert json_bytes(payload) == json.dumps(payload).encode("utf-8")
