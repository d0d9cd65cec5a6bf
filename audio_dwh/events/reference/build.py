"""Rebuild the simulator's package data from eventsim's reference files.

Run once by a maintainer (the output is committed):

    python -m audio_dwh.events.reference.build ../shared/external

It carries facts and figures only: US places, name frequencies, user-agent weights, eventsim's site
state machine, and a song catalogue (artist, title, duration, play count) taken from real eventsim
output. Artist and title are stored repaired; the simulator re-creates eventsim's double encoding.
"""

from __future__ import annotations

import collections
import csv
import gzip
import json
import sys
from pathlib import Path

from audio_dwh.events.text import repair_double_encoding

HERE = Path(__file__).parent
MILITARY_STATES = {"AA", "AE", "AP"}  # APO/FPO addresses: no real city


def build_places(src: Path) -> None:
    seen: set[str] = set()
    with open(src / "US.txt", encoding="utf-8") as f, gzip.open(HERE / "places.tsv.gz", "wt", encoding="utf-8") as out:
        out.write("zip\tcity\tstate\tlat\tlon\n")
        for row in csv.reader(f, delimiter="\t"):
            zip_code, city, state, lat, lon = row[1], row[2], row[4], row[9], row[10]
            if state in MILITARY_STATES or not city or not lat or zip_code in seen:
                continue
            seen.add(zip_code)
            out.write(f"{zip_code}\t{city}\t{state}\t{lat}\t{lon}\n")


def build_names(src: Path) -> None:
    by_gender: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    with open(src / "yob1990.txt", encoding="utf-8") as f:
        for name, gender, count in csv.reader(f):
            by_gender[gender].append((name, int(count)))
    with open(HERE / "first_names.csv", "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["name", "gender", "weight"])
        for gender in sorted(by_gender):
            for name, count in sorted(by_gender[gender], key=lambda x: -x[1])[:1000]:
                w.writerow([name, gender, count])
    text = (src / "Top1000Surnames.csv").read_text(encoding="utf-8").replace("\r", "\n")
    with open(HERE / "last_names.csv", "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["name", "weight"])
        for row in csv.DictReader(text.splitlines()):
            w.writerow([row["name"].title(), row["count"]])


def build_user_agents(src: Path) -> None:
    text = (src / "user_agents.txt").read_text(encoding="utf-16")
    with open(HERE / "user_agents.tsv", "w", encoding="utf-8", newline="") as out:
        out.write("weight\tuser_agent\n")
        for row in list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))[1:]:
            # eventsim keeps the literal double quotes of most entries: so do we.
            out.write(f"{int(row[1].strip())}\t{row[2]}\n")


def build_site(src: Path) -> None:
    config = json.loads((src / "example-config.json").read_text(encoding="utf-8"))
    (HERE / "site.json").write_text(json.dumps(config, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def build_songs(sample: Path) -> None:
    plays: collections.Counter[tuple[str, str]] = collections.Counter()
    durations: dict[tuple[str, str], float] = {}
    for path in sorted(sample.glob("*-events.json")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event.get("page") == "NextSong":
                key = (repair_double_encoding(event["artist"]), repair_double_encoding(event["song"]))
                plays[key] += 1
                durations[key] = event["length"]
    with gzip.open(HERE / "songs.csv.gz", "wt", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["artist", "title", "duration", "plays"])
        for (artist, title), count in sorted(plays.items(), key=lambda x: (-x[1], x[0])):
            w.writerow([artist, title, durations[(artist, title)], count])


def main(external: str) -> None:
    root = Path(external)
    build_places(root / "eventsim")
    build_names(root / "eventsim")
    build_user_agents(root / "eventsim")
    build_site(root / "eventsim")
    build_songs(root / "sparkify-2018-11")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/external")
