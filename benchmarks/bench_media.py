"""Video decoding figures for the media layer (issue 13): targets, not tests.

    uv run python benchmarks/bench_media.py              # small: about a minute
    uv run python benchmarks/bench_media.py --full       # 60 s of 720p30, 100 clips, 200 requests

Prints frames/s for 8/32/64 uniformly sampled frames through our layer, through a plain
sequential PyAV decode up to the last sampled frame, through a keyframe-seeking PyAV decode,
and a cached re-read; the peak RSS while many requests are prefetched; and an end-to-end run
of video requests against the local oracle server (first run, then a second run).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def sequential_decode(path: Path, indices: list[int]) -> int:
    """How most harnesses read: decode every frame up to the last one they need."""
    import av

    wanted, taken = set(indices), 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for number, frame in enumerate(container.decode(stream)):
            if number in wanted:
                frame.to_ndarray(format="rgb24")
                taken += 1
            if number >= indices[-1]:
                break
    return taken


def keyframe_seek_decode(path: Path, indices: list[int], fps: float) -> int:
    """A plain keyframe-seeking read: seek before each target time, take the first frame at or after it."""
    import av

    taken = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index in indices:
            target = int(index / fps / stream.time_base)
            container.seek(target, stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.pts is not None and frame.pts >= target:
                    frame.to_ndarray(format="rgb24")
                    taken += 1
                    break
    return taken


def timed(action, repeats: int = 3) -> float:
    """The best of a few runs, after one warm-up (lazy imports and file caches out of the figure)."""
    action()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decode_figures(long_video: Path, fps: float, workdir: Path) -> None:
    from lmms_eval.media.frame_cache import FrameCache, load_frames
    from lmms_eval.media.sampling import VideoSampling
    from lmms_eval.media.video import decode_video

    cache = FrameCache(workdir / "frames")
    print(f"\n{'frames':>6} {'ours f/s':>10} {'sequential f/s':>15} {'keyframe-seek f/s':>18} {'cached f/s':>11} {'ours/seq':>9} {'cached/ours':>12}")
    for count in (8, 32, 64):
        spec = VideoSampling(max_frames_num=count)
        ours = timed(lambda: decode_video(long_video, spec))
        indices = list(decode_video(long_video, spec).indices)
        sequential = timed(lambda: sequential_decode(long_video, indices))
        seeking = timed(lambda: keyframe_seek_decode(long_video, indices, fps))
        load_frames(long_video, spec, cache)  # fill the cache
        cached = timed(lambda: load_frames(long_video, spec, cache))
        print(
            f"{count:>6} {count / ours:>10.1f} {count / sequential:>15.1f} {count / seeking:>18.1f} {count / cached:>11.0f}"
            f" {sequential / ours:>8.1f}x {ours / cached:>11.0f}x"
        )


def clip_figures(clips: list[Path], workers: int) -> None:
    from lmms_eval.media.prefetch import prefetch_videos
    from lmms_eval.media.sampling import VideoSampling
    from lmms_eval.media.video import decode_video

    spec = VideoSampling(max_frames_num=8)
    serial = timed(lambda: [decode_video(clip, spec) for clip in clips], repeats=1)
    pooled = timed(lambda: list(prefetch_videos([str(c) for c in clips], spec, workers=workers)), repeats=1)
    print(f"\n{len(clips)} short clips, 8 frames: serial {len(clips) / serial:.1f} clips/s, prefetch pool ({workers} threads) {len(clips) / pooled:.1f} clips/s")


def rss_figure(long_video: Path, requests: int, depth: int) -> None:
    from lmms_eval.media.prefetch import prefetch_videos
    from lmms_eval.media.sampling import VideoSampling

    before = peak_rss_mib()
    spec = VideoSampling(max_frames_num=32)
    frame_bytes = 0
    for _, decoded in prefetch_videos([str(long_video)] * requests, spec, depth=depth):
        frame_bytes = decoded.frames.nbytes
    print(
        f"\n{requests} requests x 32 frames in flight (prefetch depth {depth}): peak RSS {peak_rss_mib():.0f} MiB"
        f" (before {before:.0f} MiB; one request's frames {frame_bytes / 2**20:.0f} MiB; unbounded would hold {requests * frame_bytes / 2**20:.0f} MiB)"
    )


def end_to_end(clips: list[Path], requests: int, workdir: Path) -> None:
    import os

    from lmms_eval.api.request import Origin, Request, RequestType
    from lmms_eval.models.api.openai_chat import OpenAIChat
    from lmms_eval.testing.server import OracleServer

    os.environ["LMMS_EVAL_FRAME_CACHE"] = str(workdir / "e2e-frames")
    batch = [
        Request(RequestType.GENERATE_UNTIL, Origin("bench_video", number), "What happens?", (str(clips[number % len(clips)]),))
        for number in range(requests)
    ]
    with OracleServer(record_bodies=False) as server:
        for run in ("first", "second"):
            model = OpenAIChat(model="colour-oracle", base_url=server.base_url, max_frames_num=8, image_format="JPEG")
            wall, cpu = time.perf_counter(), time.process_time()
            answered = sum(1 for response in model.generate_until(batch) if response.ok)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"end to end, {run} run: {answered}/{requests} video requests (8 frames), wall {wall:.2f} s, CPU {cpu:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the issue's sizes: 60 s 720p30, 100 clips, 200 requests")
    parser.add_argument("--seconds", type=float, help="length of the long video (default 20, --full 60)")
    parser.add_argument("--clips", type=int, help="number of short clips (default 20, --full 100)")
    parser.add_argument("--requests", type=int, help="end-to-end requests (default 50, --full 200)")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    seconds = args.seconds or (60.0 if args.full else 20.0)
    clip_count = args.clips or (100 if args.full else 20)
    requests = args.requests or (200 if args.full else 50)

    from lmms_eval.testing.videos import write_test_video

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        long_video = write_test_video(workdir / "long.mp4", seconds=seconds, fps=30, width=1280, height=720, gop=60)
        clips = [write_test_video(workdir / f"clip{n}.mp4", seconds=4, fps=30, width=320, height=240, gop=30) for n in range(clip_count)]
        print(f"generated {seconds:.0f} s of 720p30 H.264 (GOP 2 s, {long_video.stat().st_size / 2**20:.1f} MiB) and {clip_count} clips of 4 s 320x240 in {time.perf_counter() - start:.1f} s")
        decode_figures(long_video, 30.0, workdir)
        clip_figures(clips, args.workers)
        rss_figure(long_video, 64 if args.full else 16, depth=4)
        end_to_end(clips, requests, workdir)


if __name__ == "__main__":
    main()
