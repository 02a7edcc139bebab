"""A local copy of a Hub video dataset repo, built by tests: parquet rows plus media archives.

Hub video datasets (Video-MME, EgoSchema, ...) keep their rows in parquet files named by a
`configs:` block in README.md and their videos in zip or tar archives beside them. A folder
laid out the same way, given as `dataset_path`, is read by `datasets.load_dataset` and by
the `video: True` archive extraction exactly as the snapshot of the real repo would be.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def write_dataset_repo(
    folder: str | Path,
    config: str,
    splits: Mapping[str, Sequence[Mapping[str, Any]]],
    features: Any = None,
) -> Path:
    """README.md with a `configs:` block naming `<config>/<split>-00000-of-00001.parquet`, and
    those parquet files."""
    import datasets

    folder = Path(folder)
    lines = ["---", "configs:", f"- config_name: {config}", "  data_files:"]
    for split, rows in splits.items():
        relative = f"{config}/{split}-00000-of-00001.parquet"
        lines += [f"  - split: {split}", f"    path: {relative}"]
        (folder / config).mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_list([dict(row) for row in rows], features=features).to_parquet(str(folder / relative))
    (folder / "README.md").write_text("\n".join([*lines, "---", ""]), encoding="utf-8")
    return folder


def write_zip(path: str | Path, members: Mapping[str, str | Path | bytes]) -> Path:
    """A zip archive of `{name inside the archive: file path or bytes}`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in members.items():
            if isinstance(source, bytes):
                archive.writestr(name, source)
            else:
                archive.write(source, name)
    return path


def write_tar_parts(path: str | Path, members: Mapping[str, str | Path], parts: int = 2) -> list[Path]:
    """A tar archive of `{name inside: file path}` cut into `parts` pieces named
    `<path>.part.aa`, `.ab`, ... (LongVideoBench's layout)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as archive:
        for name, source in members.items():
            archive.add(str(source), arcname=name)
    data = path.read_bytes()
    path.unlink()
    size = -(-len(data) // parts)
    pieces = []
    for index in range(parts):
        piece = path.with_name(f"{path.name}.part.a{chr(ord('a') + index)}")
        piece.write_bytes(data[index * size : (index + 1) * size])
        pieces.append(piece)
    return pieces
