"""An eventsim-compatible simulator of the streaming site, one UTC day at a time.

Faithful to eventsim where it matters to the warehouse: sessions walk eventsim's own state machine
(site.json: pages, methods, statuses, auth states, levels and transition probabilities), the next
song starts exactly floor(duration) seconds after the previous one, redirects (307) follow one
second later, other gaps are log-normal with eventsim's mean (alpha), sessions arrive at eventsim's
rate (beta) with a daily and a weekend cycle, and events split into eventsim's four topics.

Determinism: a day's files depend only on (seed, users, epoch, day). Subscription state that spans
days (free/paid, cancelled) comes from a *plan process*: a cheap per-user daily Markov chain run
from `epoch` with one random stream per day, vectorised over users. The day's walk then renders a
planned upgrade, downgrade or cancellation through the state machine's own pages
(Upgrade -> Submit Upgrade, Downgrade -> Submit Downgrade, Settings -> Cancel -> Cancellation
Confirmation); the random walk itself never submits them, so the state a day starts with never
contradicts what an earlier day emitted. Guests stay guests (eventsim's registration of a new user
mid-session is not modelled).
"""

from __future__ import annotations

import math
import os
import random
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from itertools import accumulate
from pathlib import Path

import numpy as np
import orjson

from audio_dwh.events import reference
from audio_dwh.events.contract import TOPICS
from audio_dwh.events.landing import day_folder
from audio_dwh.events.text import double_encode
from audio_dwh.settings import DEFAULT_SEED, DEFAULT_START_DATE, DEFAULT_USERS

DAY_MS = 86_400_000
# Pages whose submission changes a subscription: only the plan process may emit them.
PLANNED_PAGES = {"Submit Upgrade", "Submit Downgrade", "Cancel", "Submit Registration"}
# Daily probability, for a user active that day, of each planned change.
P_UPGRADE = 0.02
P_DOWNGRADE = 0.008
P_CANCEL = 0.003
# Daily cycle of session starts: peak at 15h UTC, trough 12 hours later.
PEAK_HOUR = 15.0
DAILY_AMPLITUDE = 0.6
GUEST_SESSIONS_PER_USER = 0.01

State = tuple[str, str, int, str, str]  # page, method, status, auth, level


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = DEFAULT_SEED
    users: int = DEFAULT_USERS
    epoch: date = DEFAULT_START_DATE


@dataclass
class Site:
    """eventsim's state machine, compiled for fast walking."""

    states: list[State]
    index: dict[State, int]
    dests: list[list[int]]
    cumulative: list[list[float]]
    new_session: dict[tuple[str, str], tuple[list[int], list[float]]]
    auth_weights: tuple[list[str], list[float]]
    alpha: float
    beta: float
    session_gap: float
    weekend_damping: float

    @classmethod
    def from_config(cls, config: dict) -> Site:
        states: list[State] = []
        index: dict[State, int] = {}

        def state_id(s: dict) -> int:
            key = (s["page"], s["method"], int(s["status"]), s["auth"], s["level"])
            if key not in index:
                index[key] = len(states)
                states.append(key)
            return index[key]

        raw: dict[int, list[tuple[int, float]]] = {}
        for t in config["transitions"]:
            raw.setdefault(state_id(t["source"]), []).append((state_id(t["dest"]), float(t["p"])))
        new_session: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        for s in config["new-session"]:
            ids, weights = new_session.setdefault((s["auth"], s["level"]), ([], []))
            ids.append(state_id(s))
            weights.append(float(s["weight"]))
        dests: list[list[int]] = [[] for _ in states]
        cumulative: list[list[float]] = [[] for _ in states]
        for source, options in raw.items():
            total = sum(p for _, p in options)
            kept = [(d, p) for d, p in options if states[d][0] not in PLANNED_PAGES]
            kept_total = sum(p for _, p in kept)
            scale = total / kept_total if kept_total else 0.0
            dests[source] = [d for d, _ in kept]
            cumulative[source] = list(accumulate(p * scale for _, p in kept))
        auths = [a for a in config["auths"] if a["weight"] > 0]
        return cls(
            states=states,
            index=index,
            dests=dests,
            cumulative=cumulative,
            new_session={k: (ids, list(accumulate(w))) for k, (ids, w) in new_session.items()},
            auth_weights=([a["auth"] for a in auths], list(accumulate(float(a["weight"]) for a in auths))),
            alpha=float(config["alpha"]),
            beta=float(config["beta"]),
            session_gap=float(config["session-gap"]),
            weekend_damping=float(config["weekend-damping"]),
        )


@dataclass
class Population:
    """Registered users: identity, place, device, activity, and their starting subscription."""

    user_id: np.ndarray
    registration_ms: np.ndarray
    activity: np.ndarray
    initially_paid: np.ndarray
    first_name: list[str]
    last_name: list[str]
    gender: list[str]
    place: np.ndarray
    agent: np.ndarray
    _fragments: dict[int, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, config: SimulatorConfig, site: Site) -> Population:
        rng = np.random.default_rng([config.seed, 1])
        n = config.users
        genders = rng.choice(["M", "F"], size=n)
        first = [""] * n
        for g in ("M", "F"):
            names = reference.first_names(g)
            idx = np.flatnonzero(genders == g)
            for i, name in zip(idx, rng.choice(len(names.values), size=len(idx), p=names.probabilities), strict=True):
                first[i] = names.values[name]
        surnames = reference.last_names()
        last = [surnames.values[i] for i in rng.choice(len(surnames.values), size=n, p=surnames.probabilities)]
        epoch_ms = _day_start_ms(config.epoch)
        # Most users registered in the two years before the epoch; a fifth join in the 90 days after.
        before = rng.random(n) < 0.8
        offset_days = np.where(before, -rng.uniform(1, 730, n), rng.uniform(0, 90, n))
        registration = (epoch_ms + offset_days * DAY_MS).astype(np.int64) // 1000 * 1000 + 796
        # Session rate per day: eventsim's mean inter-arrival (beta), spread log-normally over users.
        activity = (86_400.0 / site.beta) * rng.lognormal(-0.5, 1.0, n)
        return cls(
            user_id=np.arange(1, n + 1, dtype=np.int64) + 1000,
            registration_ms=registration,
            activity=activity,
            initially_paid=rng.random(n) < 2 / 12,  # eventsim's level weights: free 10, paid 2
            first_name=first,
            last_name=last,
            gender=[str(g) for g in genders],
            place=rng.integers(0, len(reference.places()), n),
            agent=rng.choice(len(reference.user_agents().values), size=n, p=reference.user_agents().probabilities),
        )

    def fragments(self, i: int) -> tuple[str, str]:
        """JSON fragments of user i: (location and device, user details)."""
        if i not in self._fragments:
            self._fragments[i] = (
                device_fragment(int(self.place[i]), int(self.agent[i])),
                ",".join(
                    [
                        f'"userId":{self.user_id[i]}',
                        f'"lastName":{_json(self.last_name[i])}',
                        f'"firstName":{_json(self.first_name[i])}',
                        f'"gender":"{self.gender[i]}"',
                        f'"registration":{self.registration_ms[i]}',
                    ]
                ),
            )
        return self._fragments[i]


@dataclass
class DayPlan:
    """What the plan process fixes for one day: who is paid, who is gone, sessions, changes."""

    paid: np.ndarray
    cancelled: np.ndarray
    sessions: np.ndarray
    change: np.ndarray  # a PlanChange per user (int8)


class PlanChange(IntEnum):
    """What a user's plan does on a day, as the day's plan array holds it."""

    NONE = 0
    UPGRADE = 1
    DOWNGRADE = 2
    CANCEL = 3


def _json(value: str) -> str:
    return orjson.dumps(value).decode()


def _day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def device_fragment(place: int, agent: int) -> str:
    zip_code, city, state, lat, lon = reference.places()[place]
    return ",".join(
        [
            f'"city":{_json(city)}',
            f'"zip":"{zip_code}"',
            f'"state":"{state}"',
            f'"userAgent":{_json(reference.user_agents().values[agent])}',
            f'"lon":{lon!r}',
            f'"lat":{lat!r}',
        ]
    )


def weekday_factor(day: date, site: Site) -> float:
    # Our reading of eventsim's weekend-damping: weekend days lose half of it (0.5 -> 25% fewer sessions).
    return 1.0 - site.weekend_damping / 2 if day.weekday() >= 5 else 1.0


def plan_day(config: SimulatorConfig, population: Population, site: Site, day: date) -> DayPlan:
    """Run the plan process from the epoch (or the day, if earlier) up to `day`."""
    n = config.users
    paid = population.initially_paid.copy()
    cancelled = np.zeros(n, dtype=bool)
    d = min(config.epoch, day)
    while True:
        rng = np.random.default_rng([config.seed, 2, d.toordinal()])
        registered = population.registration_ms < _day_start_ms(d)
        active = registered & ~cancelled
        sessions = rng.poisson(population.activity * weekday_factor(d, site)) * active
        u = rng.random(n)
        with_session = sessions > 0
        change = np.full(n, PlanChange.NONE, dtype=np.int8)
        change[with_session & ~paid & (u < P_UPGRADE)] = PlanChange.UPGRADE
        change[with_session & paid & (u < P_DOWNGRADE)] = PlanChange.DOWNGRADE
        change[with_session & (u > 1.0 - P_CANCEL)] = PlanChange.CANCEL
        if d == day:
            return DayPlan(paid, cancelled, sessions, change)
        paid = np.where(change == PlanChange.UPGRADE, True, np.where(change == PlanChange.DOWNGRADE, False, paid))
        cancelled = cancelled | (change == PlanChange.CANCEL)
        d += timedelta(days=1)


class _Catalogue:
    """Songs as JSON fragments, with eventsim's double encoding of non-ASCII names."""

    def __init__(self) -> None:
        songs = reference.songs()
        self.cumulative = list(accumulate(reference.song_popularity()))
        self.duration = [d for _, _, d in songs]
        self.fragment = [
            f'"artist":{_json(double_encode(a))},"song":{_json(double_encode(t))},"duration":{d!r}' for a, t, d in songs
        ]

    def pick(self, r: float) -> int:
        return min(bisect(self.cumulative, r), len(self.fragment) - 1)


class DaySimulator:
    """Generates one day's events for the four topics as JSON lines."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.site = Site.from_config(reference.site())
        self.population = Population.build(config, self.site)
        self.catalogue = _Catalogue()
        self.state_json = [self._state_fragments(s) for s in self.site.states]
        # The pages that render a planned change, after the session's first page (Home), per level.
        cancel = ("Settings", "Logged In"), ("Cancel", "Logged In"), ("Cancellation Confirmation", "Cancelled")
        self.paths = {
            (PlanChange.UPGRADE, "free"): self._path("free", ("Upgrade", "Logged In"), ("Submit Upgrade", "Logged In")),
            (PlanChange.DOWNGRADE, "paid"): self._path(
                "paid", ("Downgrade", "Logged In"), ("Submit Downgrade", "Logged In")
            ),
            (PlanChange.CANCEL, "free"): self._path("free", *cancel),
            (PlanChange.CANCEL, "paid"): self._path("paid", *cancel),
        }
        self.paths[(PlanChange.UPGRADE, "free")].append(self.site.index[("Home", "GET", 200, "Logged In", "paid")])
        self.paths[(PlanChange.DOWNGRADE, "paid")].append(self.site.index[("Home", "GET", 200, "Logged In", "free")])

    def _path(self, level: str, *steps: tuple[str, str]) -> list[int]:
        by_page = {(s[0], s[3], s[4]): i for i, s in enumerate(self.site.states)}
        return [by_page[(page, auth, level)] for page, auth in steps]

    @staticmethod
    def _state_fragments(state: State) -> tuple[str, str, str]:
        page, method, status, auth, level = state
        return (
            f'"page":{_json(page)},"auth":{_json(auth)},"method":"{method}","status":{status},"level":"{level}"',
            f'"auth":{_json(auth)},"level":"{level}"',
            f'"level":"{level}"',
        )

    def simulate(self, day: date) -> dict[str, list[str]]:
        """The day's JSON lines per topic, each topic sorted by (ts, sessionId, itemInSession)."""
        site, pop = self.site, self.population
        plan = plan_day(self.config, pop, site, day)
        rnd = random.Random(f"{self.config.seed}:{day.isoformat()}")
        start_ms = _day_start_ms(day)
        out: dict[str, list[tuple[int, int, int, str]]] = {t: [] for t in TOPICS}
        session_base = (day.toordinal() - date(2000, 1, 1).toordinal()) * 1_000_000
        sessions: list[tuple[int, int | None, PlanChange]] = []  # (start ms, user index or None, planned change)
        for i in np.flatnonzero(plan.sessions):
            for k in range(int(plan.sessions[i])):
                change = PlanChange(plan.change[i]) if k == 0 else PlanChange.NONE
                offset = self._start_offset_ms(rnd)
                if change:  # leave the planned change room to finish before midnight
                    offset = min(offset, DAY_MS - 3_600_000)
                sessions.append((start_ms + offset, int(i), change))
        n_guests = np.random.default_rng([self.config.seed, 3, day.toordinal()]).poisson(
            GUEST_SESSIONS_PER_USER * self.config.users * weekday_factor(day, site)
        )
        sessions += [(start_ms + self._start_offset_ms(rnd), None, PlanChange.NONE) for _ in range(n_guests)]
        sessions.sort(key=lambda s: (s[0], -1 if s[1] is None else s[1]))
        end_ms = start_ms + DAY_MS
        for number, (t0, user, change) in enumerate(sessions):
            self._session(rnd, out, session_base + number, t0, end_ms, user, change, plan)
        return {t: [row[3] for row in sorted(rows)] for t, rows in out.items()}

    def _start_offset_ms(self, rnd: random.Random) -> int:
        """A session start within the day, drawn from the daily cycle (rejection sampling)."""
        while True:
            seconds = rnd.random() * 86_400
            weight = 1 + DAILY_AMPLITUDE * math.cos(2 * math.pi * (seconds / 3600 - PEAK_HOUR) / 24)
            if rnd.random() * (1 + DAILY_AMPLITUDE) < weight:
                return int(seconds) * 1000 + rnd.randrange(1000)

    def _session(
        self,
        rnd: random.Random,
        out: dict[str, list[tuple[int, int, int, str]]],
        session_id: int,
        t: int,
        end_ms: int,
        user: int | None,
        change: PlanChange,
        plan: DayPlan,
    ) -> None:
        site = self.site
        if user is None:
            agents = reference.user_agents().values
            device = device_fragment(rnd.randrange(len(reference.places())), rnd.randrange(len(agents)))
            details = ""
            auth, level = "Guest", "free"
        else:
            device, details = self.population.fragments(user)
            level = "paid" if plan.paid[user] else "free"
            auths, cum = site.auth_weights
            auth = "Logged In" if change else auths[bisect(cum, rnd.random() * cum[-1])]
        ids, cum = site.new_session[(auth, level)]
        if change:  # the planned change happens from the session's first page, Home
            state = site.index[("Home", "GET", 200, "Logged In", level)]
            forced = list(self.paths[(change, level)])
        else:
            state = ids[min(bisect(cum, rnd.random() * cum[-1]), len(ids) - 1)]
            forced = []
        mu = math.log(site.alpha) - 0.5
        item = 0
        previous_page = ""
        listens, pages = out["listen_events"], out["page_view_events"]
        auths_out, statuses = out["auth_events"], out["status_change_events"]
        while t < end_ms:
            page, _method, status, state_auth, _level = site.states[state]
            page_frag, auth_frag, level_frag = self.state_json[state]
            user_frag = details if state_auth in ("Logged In", "Cancelled") else ""
            common_tail = f"{device},{user_frag}" if user_frag else device
            head = f'"ts":{t},"sessionId":{session_id}'
            item_tail = f'"itemInSession":{item},{common_tail}'
            order = (t, session_id, item)
            song = -1
            if page == "NextSong":
                song = self.catalogue.pick(rnd.random())
                song_frag = self.catalogue.fragment[song]
                listens.append((*order, f"{{{song_frag},{head},{auth_frag},{item_tail}}}"))
                pages.append((*order, f"{{{head},{page_frag},{item_tail},{song_frag}}}"))
            else:
                pages.append((*order, f"{{{head},{page_frag},{item_tail}}}"))
            if previous_page == "Login":
                success = "true" if state_auth == "Logged In" else "false"
                auths_out.append((*order, f'{{{head},{level_frag},{item_tail},"success":{success}}}'))
            if page in ("Submit Upgrade", "Submit Downgrade"):
                statuses.append((*order, f"{{{head},{auth_frag},{item_tail}}}"))
            previous_page = page
            item += 1
            if forced:
                state = forced.pop(0)
            else:
                dests = site.dests[state]
                if not dests:
                    return
                r = rnd.random()
                cum = site.cumulative[state]
                k = bisect(cum, r)
                if k >= len(dests):
                    return  # eventsim's leftover probability: the session ends
                state = dests[k]
            if song >= 0:
                t += int(self.catalogue.duration[song]) * 1000
            elif status == 307:
                t += 1000
            else:
                gap = rnd.lognormvariate(mu, 1.0)
                if forced:  # a planned change is never cut short
                    gap = min(gap, 60.0)
                elif gap > site.session_gap:
                    return  # a long pause ends the session, as eventsim's session-gap says
                t += max(1, int(gap)) * 1000


SIMULATOR_FILE = "eventsim.json"
WRITE_SLICE_LINES = 20_000


def write_day(simulator: DaySimulator, day: date, landing: Path) -> dict[str, int]:
    """Write the day's four topic files atomically; returns events per topic."""
    counts = {}
    for topic, lines in simulator.simulate(day).items():
        folder = day_folder(landing, topic, day)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{SIMULATOR_FILE}.tmp"
        with tmp.open("w", encoding="utf-8") as out:
            # In slices: one string of a whole topic and its encoded copy would each be fresh memory
            # the kernel faults in page by page, for a big day the largest part of its peak RSS.
            for start in range(0, len(lines), WRITE_SLICE_LINES):
                out.write("\n".join(lines[start : start + WRITE_SLICE_LINES]) + "\n")
        os.replace(tmp, folder / SIMULATOR_FILE)
        counts[topic] = len(lines)
    return counts
