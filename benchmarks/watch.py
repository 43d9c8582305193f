"""Watching an empty home: intrusions, dead bulbs and false alarms.

Simulates 30 winter nights of 3 rooms in Berlin with the engine's household
simulator (its sensor noise, doubled and lost readings, outages and glitches).
The simulated lamp habits stand for what replay switches: every change of a
light is a replayed change, sent 0.5 to 5 s before the lamp's light reaches
the sensor (lamp delays), and expected by the room's `LuxWatch` with the
light's level. Into the readings it injects:

- 20 intrusions: an unknown lamp (40 to 250 lx at the sensor, its own noise)
  goes on after dark at a random time (21:00 to 05:00) for 10 to 60 minutes,
  in a random room, at least 20 minutes away from that room's replayed
  changes;
- 10 dead bulbs: a light of a room gives no light for 4 days (its changes
  are still sent), one episode at a time per room.

An intrusion is detected by the first activity finding of its room from its
start to 5 minutes after its end; a dead bulb is found when its light is
reported not responding (`Confirmations`, 3 misses in a row) within its
episode. Every other activity finding is a false alarm, every other light
reported not responding a false problem.

Run from the project root: ``.venv/bin/python benchmarks/watch.py``. The last
line is ``RESULT detected_intrusions=<n>/20 false_alarms_per_week=<x>
dead_bulbs_found=<n>/10 median_detection_s=<s>``. Goals: every intrusion and
dead bulb found, under 0.5 false alarms per week, median detection under
3 minutes.
"""

from __future__ import annotations

from datetime import date
import time

import numpy as np

from lighting_replay_engine.anomaly import Confirmations, Kind, LuxWatch
from lighting_replay_engine.simulate import DEFAULT_ROOMS, simulate_rooms
from lighting_replay_engine.zones import Location, after_dark

BERLIN = Location(52.52, 13.40, "Europe/Berlin")
START = date(2026, 1, 5)
DAYS = 30
INTRUSIONS = 20
DEAD_BULBS = 10
DEAD_DAYS = 4
SEED = 15


def main() -> None:
    """Run the benchmark and print its figures."""
    began = time.perf_counter()
    rng = np.random.default_rng(SEED)
    rooms = simulate_rooms(BERLIN, START, DAYS, seed=SEED)
    habits = {room.name: room for room in DEFAULT_ROOMS}
    names = list(rooms)
    first_minute = next(iter(rooms.values())).start_minute

    # Replayed changes per room: (minute, light, +1/-1).
    changes: dict[str, list[tuple[int, str, int]]] = {}
    levels: dict[str, dict[str, float]] = {}
    for name, room in rooms.items():
        levels[name] = {}
        for index, habit in enumerate(habits[name].habits):
            light = habit.light or f"lamp_{index + 1}"
            levels[name][light] = habit.lux
        events: list[tuple[int, str, int]] = []
        for light, brightness in room.lights.items():
            on = np.concatenate(([0.0], (brightness > 0).astype(float)))
            events.extend(
                (int(index), light, 1 if on[index + 1] else -1)
                for index in np.flatnonzero(np.diff(on))
            )
        changes[name] = sorted(events)

    # Dead bulbs: per room, episodes of DEAD_DAYS days that do not overlap.
    dead: list[tuple[str, str, int, int]] = []  # room, light, first, end minute
    per_room = [DEAD_BULBS // 3 + (1 if i < DEAD_BULBS % 3 else 0) for i in range(3)]
    for name, count in zip(names, per_room, strict=True):
        slots = rng.choice(DAYS // DEAD_DAYS, size=count, replace=False)
        for slot in sorted(slots):
            lo = int(slot) * DEAD_DAYS * 1440
            hi = lo + DEAD_DAYS * 1440
            # The light switched most often after dark in the episode.
            counts = {
                lt: sum(1 for m, ch, _ in changes[name] if ch == lt and lo <= m < hi)
                for lt in levels[name]
            }
            light = max(counts, key=counts.__getitem__)
            dead.append((name, light, lo, hi))

    # Intrusions: random room and night time, away from replayed changes.
    intrusions: list[tuple[str, float, float, float]] = []  # room, t0, t1, lux
    starts: list[tuple[str, int]] = []
    while len(intrusions) < INTRUSIONS:
        name = names[int(rng.integers(3))]
        day = int(rng.integers(DAYS))
        minute = day * 1440 + int(rng.integers(21 * 60, 29 * 60))
        length = int(rng.integers(10, 61))
        if minute + length + 10 >= DAYS * 1440:
            continue
        near = [
            m for m, _, _ in changes[name] if minute - 20 <= m <= minute + length + 20
        ]
        overlaps = [s for s in starts if s[0] == name and abs(s[1] - minute) < 180]
        if near or overlaps:
            continue
        starts.append((name, minute))
        t0 = (first_minute + minute) * 60.0 + float(rng.uniform(0, 60))
        intrusions.append((name, t0, t0 + length * 60.0, float(rng.uniform(40, 250))))

    detections: list[float] = []
    detected = 0
    false_alarms = 0
    found_dead = 0
    false_problems = 0
    confirmed = missed = readings = 0
    for name, room in rooms.items():
        t = room.timestamps_s.copy()
        lux = room.lux.copy()
        minutes = (t // 60).astype(np.int64) - first_minute
        for room_name, light, lo, hi in dead:
            if room_name != name:
                continue
            clipped = np.clip(minutes, 0, room.lamp_lux.size - 1)
            on = room.lights[light][clipped] > 0
            hit = on & (minutes >= lo) & (minutes < hi)
            # Take the bulb's light and its share of the noise away.
            total = room.lamp_lux[clipped[hit]]
            rest = total - levels[name][light]
            noise_lux = habits[name].noise_lux
            scale = (noise_lux + 0.02 * rest) / (noise_lux + 0.02 * total)
            lux[hit] = rest + (lux[hit] - total) * scale
        for room_name, t0, t1, level in intrusions:
            if room_name != name:
                continue
            hit = (t >= t0 + rng.uniform(0.5, 3.0)) & (t < t1)
            lux[hit] += level * (1.0 + 0.02 * rng.normal(size=int(hit.sum())))
        dark = after_dark(t / 60.0, BERLIN)
        watch = LuxWatch()
        confirmations = Confirmations()
        queue = [
            ((first_minute + m) * 60.0 - float(rng.uniform(0.5, 5.0)), light, d)
            for m, light, d in changes[name]
        ]
        qi = 0
        current: str | None = None
        activity: list[float] = []
        reported: list[tuple[str, float]] = []

        def verdict(
            kind: Kind,
            at: float,
            light: str | None,
            confirmations: Confirmations = confirmations,
            reported: list[tuple[str, float]] = reported,
        ) -> None:
            nonlocal confirmed, missed
            if light is None:
                return
            if kind is Kind.CONFIRMED:
                confirmed += 1
            else:
                missed += 1
            confirmations.record(light, kind is Kind.CONFIRMED, at)
            if light in confirmations.not_responding():
                reported.append((light, at))

        for i in range(t.size):
            while qi < len(queue) and queue[qi][0] <= t[i]:
                at, light, direction = queue[qi]
                qi += 1
                if (missed_now := watch.check(at)) is not None:
                    verdict(missed_now.kind, at, current)
                is_dark = bool(after_dark(np.array([at / 60.0]), BERLIN)[0])
                watch.expect(at, direction, levels[name][light], dark=is_dark)
                current = light if watch.expecting else None
            readings += 1
            for finding in watch.update(float(t[i]), float(lux[i]), dark=bool(dark[i])):
                if finding.kind is Kind.ACTIVITY:
                    activity.append(finding.time_s)
                elif finding.kind in (Kind.CONFIRMED, Kind.MISSED):
                    verdict(finding.kind, finding.time_s, current)
        used = [False] * len(activity)
        for room_name, t0, t1, _level in intrusions:
            if room_name != name:
                continue
            hits = [
                k for k, a in enumerate(activity) if t0 <= a <= t1 + 300 and not used[k]
            ]
            if hits:
                detected += 1
                detections.append(activity[hits[0]] - t0)
                for k in hits:
                    used[k] = True
        false_alarms += used.count(False)
        for room_name, light, lo, hi in dead:
            if room_name == name and any(
                lt == light
                and (first_minute + lo) * 60 <= at < (first_minute + hi) * 60
                for lt, at in reported
            ):
                found_dead += 1
        # A report outside any episode of its light (a day's slack after
        # one, until the replaced bulb's first change confirms it).
        false_problems += sum(
            1
            for lt, at in reported
            if not any(
                d[0] == name
                and d[1] == lt
                and (first_minute + d[2]) * 60 <= at < (first_minute + d[3] + 1440) * 60
                for d in dead
            )
        )
        print(
            f"{name}: readings={t.size} changes={len(changes[name])} "
            f"activity={len(activity)} not_responding_reports={len(reported)}"
        )
    per_week = false_alarms / (DAYS / 7.0)
    median = float(np.median(detections)) if detections else float("nan")
    print(
        f"confirmed={confirmed} missed={missed} false_problems={false_problems} "
        f"readings={readings} seconds={time.perf_counter() - began:.1f}"
    )
    print(
        f"RESULT detected_intrusions={detected}/{INTRUSIONS} "
        f"false_alarms_per_week={per_week:.2f} "
        f"dead_bulbs_found={found_dead}/{DEAD_BULBS} "
        f"median_detection_s={median:.0f}"
    )


if __name__ == "__main__":
    main()
