"""A task whose media the model cannot take fails before its first request, in one line."""

from __future__ import annotations

import pytest
from PIL import Image

from lmms_eval.api.model import Model
from lmms_eval.api.request import Origin, Request, RequestType
from lmms_eval.engine.modalities import refuse_unsupported_media, request_media_kinds
from lmms_eval.engine.requests import UnbuiltDoc
from lmms_eval.errors import ModelError


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"not decoded here: only its kind matters")
    return str(path)


class ImagesOnly(Model):
    def accepts(self, kind: str) -> bool:
        return kind == "image"


def _request(doc_id: int, *visuals) -> Request:
    return Request(RequestType.GENERATE_UNTIL, Origin("clips", doc_id), "What is it?", visuals)


def test_media_kinds_of_a_request(clip):
    assert request_media_kinds(_request(0, Image.new("RGB", (2, 2)), clip)) == ["image", "video"]
    assert request_media_kinds(_request(0)) == []


def test_first_request_with_an_unsupported_kind_stops_the_task(clip):
    requests = [UnbuiltDoc(Origin("clips", 0), "missing"), _request(1, clip)]
    with pytest.raises(ModelError) as raised:
        list(refuse_unsupported_media(ImagesOnly(), "clips", "fixed", requests))
    assert str(raised.value) == "task clips sends video, which model 'fixed' (ImagesOnly) cannot take"


def test_accepted_stream_is_passed_on_whole(clip):
    image = Image.new("RGB", (2, 2))
    requests = [_request(0, image), _request(1, clip), _request(2)]  # only the first is checked
    assert list(refuse_unsupported_media(ImagesOnly(), "clips", "fixed", iter(requests))) == requests


def test_a_pending_request_from_the_request_cache_is_checked_by_its_prompt(clip):
    from lmms_eval.api.messages import ChatMessages
    from lmms_eval.engine.request_cache import PendingRequest

    built = Request(RequestType.GENERATE_UNTIL, Origin("clips", 0), ChatMessages.build("What is it?", [clip]))
    pending = PendingRequest(built.type, built.origin, built.key, built.prompt, {}, rebuild=lambda origin: built)
    with pytest.raises(ModelError, match="task clips sends video"):
        list(refuse_unsupported_media(ImagesOnly(), "clips", "fixed", [pending]))
