"""The landing folder's layout, and which of the files in it a producer meant to land.

Producers (eventsim, the simulator, a copy from the bucket) put a day's events of a topic under
landing/<topic>/date=YYYY-MM-DD/ as JSON lines: `*.json`, or compressed as `*.json.gz` or
`*.json.zst` (the compressions DuckDB reads itself). An empty topic folder is the producer's
"nothing today". Hidden files (rsync's partial copies), temporary and backup files, and anything
else are skipped; a file compressed in a way DuckDB cannot read is rejected, so its events are seen
to be missing instead of silently left out. The rule is by name, so the local folder and the bucket
apply the same one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from audio_dwh.events.contract import TOPICS

# DuckDB's name for each readable compression, by file name ending.
READABLE = {".json": "none", ".json.gz": "gzip", ".json.zst": "zstd"}
UNREADABLE_COMPRESSIONS = {
    ".bz2": "bzip2", ".xz": "xz", ".lzma": "lzma", ".zip": "zip", ".lz4": "lz4", ".br": "brotli", ".7z": "7-Zip",
    ".z": "compress", ".snappy": "snappy",
}  # fmt: skip
TEMPORARY_ENDINGS = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".bak", ".swp", ".old", "~")
DAY_PREFIX = "date="


class FileKind(StrEnum):
    EVENTS = "events"  # read by the loader
    UNREADABLE = "unreadable"  # meant as events but not readable: one rejected file
    SKIPPED = "skipped"  # not meant as events: listed, with a warning


def day_folder_name(topic: str, day: date) -> str:
    """A topic's day folder, relative to the landing folder (or the bucket's prefix)."""
    return f"{topic}/{DAY_PREFIX}{day.isoformat()}"


def day_folder(landing: Path, topic: str, day: date) -> Path:
    return landing / day_folder_name(topic, day)


def classify(name: str) -> tuple[FileKind, str]:
    """What a file of a day folder is, by its name; with the reason when it is not read."""
    lower = name.lower()
    if name.startswith("."):
        return FileKind.SKIPPED, "hidden file (e.g. a copy still in progress)"
    if lower.endswith(TEMPORARY_ENDINGS):
        return FileKind.SKIPPED, "temporary or backup file"
    if compression(name):
        return FileKind.EVENTS, ""
    stem, _, ending = lower.rpartition(".")
    if stem.endswith(".json") and f".{ending}" in UNREADABLE_COMPRESSIONS:
        return FileKind.UNREADABLE, (
            f"compressed with {UNREADABLE_COMPRESSIONS[f'.{ending}']}, which the loader cannot read: "
            f"land it as {', '.join(f'*{e}' for e in READABLE)}"
        )
    return FileKind.SKIPPED, f"not an event file ({', '.join(f'*{e}' for e in READABLE)})"


def compression(name: str) -> str | None:
    """DuckDB's compression for an event file's name, None when it is not one."""
    lower = name.lower()
    return next((c for ending, c in READABLE.items() if lower.endswith(ending)), None)


@dataclass(frozen=True)
class FileStamp:
    """A landed file as the landing inventory sees it: a change to any part is a change of the day."""

    name: str  # relative to the landing folder (or the bucket's prefix)
    size: int
    modified: float  # epoch seconds


@dataclass
class DayFiles:
    """One topic's files of a day, each kind sorted by name."""

    folder_exists: bool
    events: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def scan_day(landing: Path, topic: str, day: date) -> DayFiles:
    """The day folder's files of a topic, by kind. Paths stay inside the landing folder (a symlinked
    file keeps its name there); subfolders and broken links are skipped."""
    folder = day_folder(landing, topic, day)
    if not folder.is_dir():
        return DayFiles(folder_exists=False)
    found = DayFiles(folder_exists=True)
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            found.skipped.append((path, "not a file (a folder or a broken link)"))
            continue
        kind, reason = classify(path.name)
        if kind == FileKind.EVENTS:
            found.events.append(path)
        elif kind == FileKind.UNREADABLE:
            found.unreadable.append((path, reason))
        else:
            found.skipped.append((path, reason))
    return found


def landed(name: str) -> bool:
    """Whether a file is part of what a day's load reads (events, or a file it rejects), by its name."""
    return classify(name.rpartition("/")[2])[0] != FileKind.SKIPPED


def local_inventory(landing: Path, day: date | None = None) -> dict[str, dict[str, list[FileStamp]]]:
    """The landing folder's days (or one day): day text -> topic folder present -> each file in it."""
    days: dict[str, dict[str, list[FileStamp]]] = {}
    pattern = f"{DAY_PREFIX}{day.isoformat()}" if day else f"{DAY_PREFIX}*"
    for topic in TOPICS:
        for folder in sorted((landing / topic).glob(pattern)):
            if not folder.is_dir():
                continue
            stamps = days.setdefault(folder.name.removeprefix(DAY_PREFIX), {}).setdefault(topic, [])
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    stat = path.stat()
                    stamps.append(FileStamp(path.relative_to(landing).as_posix(), stat.st_size, stat.st_mtime))
    return days


def fingerprint(topics: dict[str, list[FileStamp]]) -> str:
    """A day's landed files in one short text: it changes when a topic folder or a landed file is
    added, changed or removed (skipped files do not count)."""
    listing = sorted(
        [s.name, s.size, round(s.modified, 3)] for stamps in topics.values() for s in stamps if landed(s.name)
    )
    return hashlib.sha256(json.dumps([sorted(topics), listing]).encode()).hexdigest()[:16]
