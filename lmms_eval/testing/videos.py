"""Generated test videos (PyAV, H.264 and friends): tests and benchmarks build their own media."""

from __future__ import annotations

from pathlib import Path


def write_test_video(
    path: str | Path,
    *,
    seconds: float = 2.0,
    fps: int = 10,
    width: int = 64,
    height: int = 48,
    codec: str = "libx264",
    gop: int = 12,
) -> Path:
    """A clip whose frame i has a left band of brightness (i * 9) % 256: frames are told apart by eye."""
    import av
    import numpy as np

    path = Path(path)
    frame_count = max(1, round(seconds * fps))
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "rgb8" if codec == "gif" else "yuv420p"
        if codec == "libx264":
            stream.options = {"g": str(gop), "preset": "ultrafast", "bf": "0"}
        elif codec != "gif":
            stream.options = {"g": str(gop)}
        ramp = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
        for i in range(frame_count):
            pixels = np.broadcast_to(ramp, (height, width, 3)).copy()
            pixels[:, : max(1, width // 4)] = (i * 9) % 256
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def band_level(frame) -> int:
    """The brightness of a generated frame's left band (which encodes its index)."""
    width = frame.shape[1]
    return int(round(float(frame[:, : max(1, width // 8)].mean())))
