"""Watching a room's lux stream while nobody is home: faults, activity, checks.

`LuxWatch` scores one room's lux readings online, reading by reading, with
constant memory and no training pass. Its state is a handful of numbers:

- the noise ``sigma``: an exponentially weighted mean of the absolute
  difference between consecutive readings (steps larger than the activity
  threshold are left out), times 1.25 (the mean absolute deviation of a
  normal distribution), never below `NOISE_FLOOR_LUX`;
- the ``baseline``: an exponentially weighted mean (time constant
  `BASELINE_TAU_S`) of the readings within the threshold of it;
- persistence counters: the readings in a row away from the baseline on the
  same side, the time the value has not changed at all, and decaying counts
  of alternating large steps and of implausible readings.

The rule, per reading (``dark`` is the caller's: the sun more than 6 degrees
below the horizon, after civil dusk and before civil dawn):

1. **Implausible** readings (not a number, below `MIN_LUX`, above `MAX_LUX`,
   or after dark a step of more than `MAX_DARK_STEP_LUX` from the baseline,
   more than any lamp gives) are left out of everything else. Three of them
   within about an hour (a count decaying with `IMPLAUSIBLE_TAU_S`) make
   the sensor *implausible*: a data-quality problem, never activity.
2. **Stuck**: the same value, exactly, for `STUCK_S` (`STUCK_DARK_S` at or
   below `DARK_LUX`, as a dark room can read 0 all night).
3. **Flapping**: a large step (beyond the threshold) in the opposite direction
   of the previous large step within `FLAP_GAP_S` is an alternation; their
   count decays with `FLAP_TAU_S`; `FLAP_SCORE` of them make the sensor
   flapping until the count falls below 1.
4. **A level shift**: `CONSISTENT_READINGS` readings in a row on the same side
   of the baseline by more than the threshold ``max(NOISE_K * sigma,
   MIN_STEP_LUX, REL_STEP * |baseline|)``, the later within the threshold
   (or a quarter of the shift) of the earlier, is a consistent, plausible
   change. After a gap of more than `GAP_S` without readings the level
   starts afresh from the next reading (no shift across a gap). The baseline
   takes the new level. The shift's score is its size over ``sigma``.

   - while a replayed change is expected in its direction (see below), the
     shift confirms it;
   - otherwise, after dark, on a sensor that is neither implausible, stuck
     nor flapping and has had no alternation lately (count below
     `FLAP_QUIET`): the shift is **activity**;
   - in daylight a shift is only followed, never activity.

**Confirmation of a replayed change** (`LuxWatch.expect`, after dark only):
replay switched a light on (a rise) or off (a fall), whose learned level in
the room is ``delta`` lux (0 when unknown). Within `CONFIRM_WINDOW_S` a
level shift must come in that direction, larger than the threshold and,
when ``delta`` is known, at least `CONSISTENT_SHARE` of it: *confirmed*. A
smaller shift in that direction belongs to the replayed light (dim or
failing): no activity, and no confirmation. If the window passes with readings but no such
shift: *missed*. No readings in the window, a faulty sensor, or daylight:
no verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import math

#: Readings below this are impossible (a little below 0 is dark noise).
MIN_LUX = -5.0
#: Readings above this are impossible (direct sun is about 120 000 lx).
MAX_LUX = 200_000.0
#: After dark, a step from the baseline larger than this is no lamp.
MAX_DARK_STEP_LUX = 20_000.0
#: Smallest noise assumed (lx).
NOISE_FLOOR_LUX = 0.5
#: A change must exceed this many sigmas of noise...
NOISE_K = 8.0
#: ... and at least this many lux...
MIN_STEP_LUX = 5.0
#: ... and this share of the baseline (noise grows with the light).
REL_STEP = 0.15
#: After a gap in the readings this long the level starts afresh (s).
GAP_S = 900.0
#: Readings in a row that make a shift consistent.
CONSISTENT_READINGS = 2
#: Time constant of the baseline (s).
BASELINE_TAU_S = 600.0
#: Weight of a new absolute difference in the noise estimate.
NOISE_WEIGHT = 0.05
#: Lux at or below which a room is dark.
DARK_LUX = 1.0
#: An unchanged value for this long is a stuck sensor (s)...
STUCK_S = 3 * 3600.0
#: ... or, at or below DARK_LUX, this long.
STUCK_DARK_S = 24 * 3600.0
#: A large step back within this time is an alternation (s).
FLAP_GAP_S = 300.0
#: Time constant of the alternation count (s).
FLAP_TAU_S = 900.0
#: Alternations that make a sensor flapping.
FLAP_SCORE = 4.0
#: Below this alternation count a sensor has been calm lately.
FLAP_QUIET = 0.5
#: Time constant of the implausible-reading count (s).
IMPLAUSIBLE_TAU_S = 3600.0
#: Implausible readings that make a sensor implausible.
IMPLAUSIBLE_SCORE = 3.0
#: A replayed change must show in lux within this time (s).
CONFIRM_WINDOW_S = 300.0
#: A confirming shift is at least this share of the learned change.
CONSISTENT_SHARE = 0.3
#: Unconfirmed changes of one light in a row that make it not responding.
MISSES_FOR_PROBLEM = 3


class Kind(StrEnum):
    """What a reading showed."""

    ACTIVITY = "activity"
    CONFIRMED = "confirmed"
    MISSED = "missed"
    STUCK = "stuck"
    FLAPPING = "flapping"
    IMPLAUSIBLE = "implausible"


@dataclass(frozen=True)
class Finding:
    """A finding of the watch at ``time_s``; ``score`` is the shift in sigmas.

    ``direction`` is +1 for a rise, -1 for a fall, 0 for a sensor fault.
    """

    kind: Kind
    time_s: float
    score: float = 0.0
    direction: int = 0
    lux: float = math.nan


def _decay(value: float, dt: float, tau: float) -> float:
    return value * math.exp(-max(dt, 0.0) / tau)


class LuxWatch:
    """Online anomaly scorer of one room's lux stream (see the module rule)."""

    __slots__ = (
        "_abs_diff",
        "_expect_delta",
        "_expect_readings",
        "_expect_sign",
        "_expect_until",
        "_flap",
        "_flap_sign",
        "_flap_time",
        "_implausible",
        "_last",
        "_last_time",
        "_pending",
        "_pending_sign",
        "_pending_value",
        "_same_since",
        "baseline",
        "faults",
    )

    def __init__(self) -> None:
        """Start with no reading seen."""
        self.baseline = math.nan
        self._abs_diff = NOISE_FLOOR_LUX / 1.25
        self._last = math.nan
        self._last_time = math.nan
        self._same_since = math.nan
        self._pending = 0
        self._pending_sign = 0
        self._pending_value = math.nan
        self._flap = 0.0
        self._flap_sign = 0
        self._flap_time = -math.inf
        self._implausible = 0.0
        self._expect_until = -math.inf
        self._expect_delta = 0.0
        self._expect_sign = 0
        self._expect_readings = 0
        #: Sensor faults found now (stuck, flapping, implausible).
        self.faults: frozenset[Kind] = frozenset()

    @property
    def sigma(self) -> float:
        """Return the noise estimate (lx)."""
        return max(1.25 * self._abs_diff, NOISE_FLOOR_LUX)

    @property
    def threshold(self) -> float:
        """Return the smallest change that is more than noise (lx)."""
        base = abs(self.baseline) if math.isfinite(self.baseline) else 0.0
        return max(NOISE_K * self.sigma, MIN_STEP_LUX, REL_STEP * base)

    @property
    def expecting(self) -> bool:
        """Return whether a replayed change waits for its confirmation."""
        return math.isfinite(self._expect_until)

    def expect(
        self, time_s: float, direction: int, level: float = 0.0, *, dark: bool
    ) -> None:
        """Expect a replayed change from ``time_s``: a rise (+1) or a fall (-1).

        ``level`` is the learned lux of the switched light (0: unknown). In
        daylight, or with a sensor fault, nothing is expected.
        """
        if not dark or self.faults or direction == 0:
            self._expect_until = -math.inf
            return
        self._expect_until = time_s + CONFIRM_WINDOW_S
        self._expect_delta = math.copysign(max(abs(level), 0.0), direction)
        self._expect_sign = _sign(direction)
        self._expect_readings = 0
        # A shift already under way in the other direction does not count.
        if self._pending_sign and self._pending_sign != self._expect_sign:
            self._pending = 0

    def check(self, time_s: float) -> Finding | None:
        """Close the confirmation window if it has passed (call on a timer)."""
        if not self.expecting or time_s < self._expect_until:
            return None
        had_readings = self._expect_readings > 0
        self._expect_until = -math.inf
        if had_readings and not self.faults:
            return Finding(Kind.MISSED, time_s, direction=self._expect_sign)
        return None

    def update(self, time_s: float, lux: float, *, dark: bool) -> list[Finding]:
        """Take a reading at ``time_s`` (seconds) and return what it showed."""
        lux = float(lux)
        found: list[Finding] = []
        if (missed := self.check(time_s)) is not None:
            found.append(missed)
        before = self.faults
        dt = time_s - self._last_time if math.isfinite(self._last_time) else 0.0
        self._flap = _decay(self._flap, dt, FLAP_TAU_S)
        self._implausible = _decay(self._implausible, dt, IMPLAUSIBLE_TAU_S)
        if not math.isfinite(self._last_time):
            self._last_time = time_s
        implausible = (
            not math.isfinite(lux)
            or lux < MIN_LUX
            or lux > MAX_LUX
            or (
                dark
                and math.isfinite(self.baseline)
                and abs(lux - self.baseline) > MAX_DARK_STEP_LUX
            )
        )
        if implausible:
            self._implausible += 1.0
            self._last_time = time_s
            self._set_faults(time_s, before, found)
            return found
        if not math.isfinite(self._last) or dt > GAP_S:
            # The first reading, or the first after a gap: what changed
            # meanwhile cannot be told apart from the level before.
            self._pending = 0
            self._pending_sign = 0
            self.baseline = lux
            self._last = lux
            self._same_since = time_s
            self._last_time = time_s
            return found
        self._last_time = time_s
        step = lux - self._last
        threshold = self.threshold
        if step != 0.0:
            self._same_since = time_s
        if abs(step) <= threshold:
            self._abs_diff += NOISE_WEIGHT * (abs(step) - self._abs_diff)
        else:
            sign = _sign(step)
            if (
                self._flap_sign
                and sign != self._flap_sign
                and time_s - self._flap_time <= FLAP_GAP_S
            ):
                self._flap += 1.0
            self._flap_sign = sign
            self._flap_time = time_s
        self._last = lux
        if self.expecting:
            self._expect_readings += 1
        self._set_faults(time_s, before, found)
        self._follow(time_s, lux, dt, dark, threshold, found)
        return found

    def _set_faults(
        self, time_s: float, before: frozenset[Kind], found: list[Finding]
    ) -> None:
        faults: set[Kind] = set()
        if self._implausible >= IMPLAUSIBLE_SCORE:
            faults.add(Kind.IMPLAUSIBLE)
        if math.isfinite(self._same_since):
            limit = STUCK_DARK_S if self._last <= DARK_LUX else STUCK_S
            if time_s - self._same_since >= limit:
                faults.add(Kind.STUCK)
        if self._flap >= FLAP_SCORE or (Kind.FLAPPING in before and self._flap >= 1.0):
            faults.add(Kind.FLAPPING)
        self.faults = frozenset(faults)
        found.extend(Finding(kind, time_s) for kind in sorted(self.faults - before))

    def _follow(
        self,
        time_s: float,
        lux: float,
        dt: float,
        dark: bool,
        threshold: float,
        found: list[Finding],
    ) -> None:
        offset = lux - self.baseline
        if abs(offset) <= threshold:
            weight = 1.0 - math.exp(-max(dt, 0.0) / BASELINE_TAU_S)
            self.baseline += weight * offset
            self._pending = 0
            self._pending_sign = 0
            return
        sign = _sign(offset)
        tolerance = max(threshold, 0.25 * abs(offset))
        if (
            self._pending
            and sign == self._pending_sign
            and abs(lux - self._pending_value) <= tolerance
        ):
            self._pending += 1
        else:
            self._pending = 1
            self._pending_sign = sign
        self._pending_value = lux
        if self._pending < CONSISTENT_READINGS:
            return
        score = abs(offset) / self.sigma
        self.baseline = lux
        self._pending = 0
        self._pending_sign = 0
        if self.expecting and sign == self._expect_sign:
            delta = abs(self._expect_delta)
            if delta == 0.0 or abs(offset) >= CONSISTENT_SHARE * delta:
                self._expect_until = -math.inf
                if not self.faults:
                    found.append(Finding(Kind.CONFIRMED, time_s, score, sign, lux))
                return
            # Less than the learned light: the replayed light itself, dim or
            # failing; judged when the window ends (a miss), never activity.
            return
        if dark and not self.faults and self._flap < FLAP_QUIET:
            found.append(Finding(Kind.ACTIVITY, time_s, score, sign, lux))


class Confirmations:
    """Confirmed and missed changes per light of a room.

    A light whose last `MISSES_FOR_PROBLEM` (or ``misses``) replayed changes
    in a row went unconfirmed is not responding, since its first miss of the
    row; one confirmed change clears it.
    """

    __slots__ = ("_misses", "_since", "misses_for_problem")

    def __init__(self, misses: int = MISSES_FOR_PROBLEM) -> None:
        """Start with every light responding."""
        self.misses_for_problem = misses
        self._misses: dict[str, int] = {}
        self._since: dict[str, float] = {}

    def record(self, light: str, confirmed: bool, time_s: float) -> None:
        """Record a replayed change of ``light`` confirmed or missed."""
        if confirmed:
            self._misses.pop(light, None)
            self._since.pop(light, None)
            return
        self._misses[light] = self._misses.get(light, 0) + 1
        self._since.setdefault(light, time_s)

    def misses(self, light: str) -> int:
        """Return the unconfirmed changes of ``light`` in a row."""
        return self._misses.get(light, 0)

    def not_responding(self) -> dict[str, float]:
        """Return the lights not responding, with the time of the first miss."""
        return {
            light: self._since[light]
            for light, count in self._misses.items()
            if count >= self.misses_for_problem
        }


def _sign(value: float) -> int:
    return int(value > 0) - int(value < 0)
