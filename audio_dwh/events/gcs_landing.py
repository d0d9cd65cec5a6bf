"""The landing bucket (production): gs://bucket/prefix/<topic>/date=YYYY-MM-DD/*.json, the same layout
as the local landing folder, which serves as the working copy a load validates from."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from google.cloud import storage

from audio_dwh.events.contract import TOPICS
from audio_dwh.events.simulator import day_folder


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
        """Copy the day's local files of every topic to the bucket; returns their gs:// URIs."""
        bucket = client.bucket(self.bucket)
        uris = []
        for topic in TOPICS:
            for path in sorted(day_folder(local_landing, topic, day).glob("*.json*")):
                relative = path.relative_to(local_landing).as_posix()
                bucket.blob(self._name(relative)).upload_from_filename(str(path))
                uris.append(self.uri(relative))
        return uris

    def day_objects(self, client: storage.Client, topic: str, day: date) -> list[tuple[str, int]]:
        """(name relative to the prefix, size) of the day folder's own JSON files for a topic."""
        folder = self._name(f"{topic}/date={day.isoformat()}/")
        return [
            (blob.name[len(self._name("")) :], blob.size or 0)
            for blob in client.list_blobs(self.bucket, prefix=folder)
            if "/" not in blob.name[len(folder) :] and ".json" in blob.name
        ]

    def inventory(self, client: storage.Client) -> dict[str, dict[str, list[float]]]:
        """The bucket's landing files: day text -> topic -> each file's last-update time (epoch s)."""
        days: dict[str, dict[str, list[float]]] = {}
        for blob in client.list_blobs(self.bucket, prefix=self._name("")):
            parts = blob.name[len(self._name("")) :].split("/")
            if len(parts) == 3 and parts[0] in TOPICS and parts[1].startswith("date=") and ".json" in parts[2]:
                topics = days.setdefault(parts[1].removeprefix("date="), {})
                topics.setdefault(parts[0], []).append(blob.updated.timestamp())
        return days

    def upload_file(self, client: storage.Client, path: Path, relative: str) -> str:
        client.bucket(self.bucket).blob(self._name(relative)).upload_from_filename(str(path))
        return self.uri(relative)

    def download_day(self, client: storage.Client, topic: str, day: date, local_landing: Path) -> list[Path]:
        """Mirror the bucket's files of a topic and day into the local landing folder (replacing what
        was there), so the load validates exactly what the bucket holds, line numbers and all."""
        folder = day_folder(local_landing, topic, day)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        bucket = client.bucket(self.bucket)
        paths = []
        for name, _ in self.day_objects(client, topic, day):
            path = local_landing / name
            bucket.blob(self._name(name)).download_to_filename(str(path))
            paths.append(path)
        return sorted(paths)
