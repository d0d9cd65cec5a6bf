"""The landing bucket (production): gs://bucket/prefix/<topic>/date=YYYY-MM-DD/*.json, the same layout
as the local landing folder, which serves as the working copy a load validates from."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from google.cloud import storage

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import DAY_PREFIX, FileStamp, day_folder, day_folder_name, landed, scan_day


@dataclass(frozen=True)
class GcsLanding:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> GcsLanding:
        if not url.startswith("gs://") or not url[5:].split("/", 1)[0]:
            raise ValueError(f"AUDIO_DWH_GCS_LANDING must be gs://bucket[/prefix], got {url!r}")
        bucket, _, prefix = url[5:].partition("/")
        return cls(bucket, prefix.strip("/"))

    def _name(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def uri(self, relative: str) -> str:
        return f"gs://{self.bucket}/{self._name(relative)}"

    def upload_day(self, client: storage.Client, local_landing: Path, day: date) -> list[str]:
        """Copy the day's local event files of every topic to the bucket; returns their gs:// URIs."""
        bucket = client.bucket(self.bucket)
        uris = []
        for topic in TOPICS:
            for path in scan_day(local_landing, topic, day).events:
                relative = path.relative_to(local_landing).as_posix()
                bucket.blob(self._name(relative)).upload_from_filename(str(path))
                uris.append(self.uri(relative))
        return uris

    def _add(self, days: dict[str, dict[str, list[FileStamp]]], blob: storage.Blob) -> None:
        """Put an object into an inventory if it lies in a day folder of a topic (a folder placeholder,
        a name ending in '/', marks the topic as present)."""
        relative = blob.name[len(self._name("")) :]
        parts = relative.split("/")
        if len(parts) == 3 and parts[0] in TOPICS and parts[1].startswith(DAY_PREFIX):
            stamps = days.setdefault(parts[1].removeprefix(DAY_PREFIX), {}).setdefault(parts[0], [])
            if parts[2]:
                modified = blob.updated.timestamp() if blob.updated else 0.0
                stamps.append(FileStamp(relative, blob.size or 0, modified))

    def inventory(self, client: storage.Client, day: date | None = None) -> dict[str, dict[str, list[FileStamp]]]:
        """The bucket's landing days (or one day): day text -> topic present -> each of its files."""
        days: dict[str, dict[str, list[FileStamp]]] = {}
        prefixes = [f"{day_folder_name(t, day)}/" for t in TOPICS] if day else [""]
        for prefix in prefixes:
            for blob in client.list_blobs(self.bucket, prefix=self._name(prefix)):
                self._add(days, blob)
        return days

    def upload_file(self, client: storage.Client, path: Path, relative: str) -> str:
        client.bucket(self.bucket).blob(self._name(relative)).upload_from_filename(str(path))
        return self.uri(relative)

    def download_day(self, client: storage.Client, topic: str, day: date, local_landing: Path) -> None:
        """Mirror the bucket's landed files of a topic and day into the local landing folder (replacing
        what was there), so the load validates exactly what the bucket holds, line numbers and all."""
        folder = day_folder(local_landing, topic, day)
        shutil.rmtree(folder, ignore_errors=True)
        topics = self.inventory(client, day).get(day.isoformat(), {})
        if topic not in topics:
            return  # no folder in the bucket: none here either
        folder.mkdir(parents=True)
        bucket = client.bucket(self.bucket)
        for stamp in topics[topic]:
            if landed(stamp.name):
                bucket.blob(self._name(stamp.name)).download_to_filename(str(local_landing / stamp.name))
