"""Package data the simulator draws from (built by `build.py` from eventsim's reference files)."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Weighted:
    """Values with sampling probabilities."""

    values: tuple
    probabilities: np.ndarray


def _weighted(values: list, weights: list[float]) -> Weighted:
    w = np.asarray(weights, dtype=float)
    return Weighted(tuple(values), w / w.sum())


@cache
def places() -> tuple[tuple[str, str, str, float, float], ...]:
    """US places: (zip, city, state, lat, lon)."""
    with gzip.open(HERE / "places.tsv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return tuple((r["zip"], r["city"], r["state"], float(r["lat"]), float(r["lon"])) for r in rows)


@cache
def first_names(gender: str) -> Weighted:
    with open(HERE / "first_names.csv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["gender"] == gender]
    return _weighted([r["name"] for r in rows], [float(r["weight"]) for r in rows])


@cache
def last_names() -> Weighted:
    with open(HERE / "last_names.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return _weighted([r["name"] for r in rows], [float(r["weight"]) for r in rows])


@cache
def user_agents() -> Weighted:
    with open(HERE / "user_agents.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return _weighted([r["user_agent"] for r in rows], [float(r["weight"]) for r in rows])


@cache
def songs() -> tuple[tuple[str, str, float], ...]:
    """Song catalogue (artist, title, duration) and, in `song_popularity`, its play weights."""
    with gzip.open(HERE / "songs.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple((r["artist"], r["title"], float(r["duration"])) for r in rows)


@cache
def song_popularity() -> np.ndarray:
    with gzip.open(HERE / "songs.csv.gz", "rt", encoding="utf-8") as f:
        plays = np.array([float(r["plays"]) for r in csv.DictReader(f)])
    return plays / plays.sum()


@cache
def site() -> dict:
    """eventsim's site state machine and timing parameters (its example-config.json)."""
    return json.loads((HERE / "site.json").read_text(encoding="utf-8"))
