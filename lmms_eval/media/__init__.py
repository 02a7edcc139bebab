"""Media layer: one place where every backend gets its video and audio.

Layout (each module imports its decoders lazily, so ``--help`` stays fast):

- ``sampling.py``    -- ``VideoSampling``: the one frame-sampling spec (``max_frames_num``,
  ``fps`` with a cap, start/end times, ``max_pixels``) and the index rule (uniform over the
  whole clip, endpoints included).  Video helper.
- ``video.py``       -- decoding with PyAV (keyframe seeks for sparse sampling, exact frame
  indices), GIFs and frame folders; torchcodec/decord where installed.  Video helper.
- ``frame_cache.py`` -- decoded frames on disk, keyed by file content digest + spec.  Video helper.
- ``prefetch.py``    -- a bounded pool of threads decoding ahead of inference.  Video helper.
- ``audio.py``       -- audio reading and resampling.  Audio helper.
"""
