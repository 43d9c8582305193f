"""Speed of the engine's HMM training against hmmlearn on a room's data.

Ninety days of one-minute on/off data for one room (generated here, seeded,
with long runs, evening habits, short night visits and sensor gaps) are split
into the four zones of a day, each zone into sequences that end at a gap or a
zone boundary. For each zone the engine's ``CategoricalHMM`` and hmmlearn's
(``implementation="scaling"``) start from the same parameters and run the same
fixed number of EM iterations; each is timed as the best of a few repeats.
The log-likelihoods of every iteration are compared. Then a whole room is
trained as the integration does: four zones, ``fit_best`` with 3 restarts,
``n_iter=100`` and ``tol=1e-4`` (convergence or the iteration limit).

The same comparison runs on a worst case for the engine: a zone whose
symbol changes every minute or two (a flickering sensor, a busy motion
light), 90 days of the 14-hour day zone, where runs are too short for the
run method and the engine uses its block method. On that zone
``fit_best`` with three restarts is also timed against three hmmlearn fits
from the same initial parameters.

Last line: ``RESULT fit_ratio=<engine s / hmmlearn s, lamp-like data>
alternating_fit_ratio=<the same on the alternating zone>
alternating_restarts_ratio=<the same for three restarts>
loglik_rel_diff=<max relative difference of the per-iteration log-likelihoods,
all cases>
param_abs_diff=<max absolute difference of the fitted probabilities>
room_seconds=<whole room fit, wall time> room_cpu_seconds=<the same, CPU
time>``. The machine is shared, so the load average is printed too: wall
times taken under load are slower for both libraries.

Run: ``.venv/bin/python benchmarks/hmm_fit.py`` (needs hmmlearn).
"""

from __future__ import annotations

from collections.abc import Callable
import math
import os
import time

from hmmlearn.hmm import CategoricalHMM as ReferenceHMM
import numpy as np
import numpy.typing as npt

from lighting_replay_engine.hmm import CategoricalHMM, fit_best

DAYS = 90
N_STATES = 5
N_ITER = 20
REPEATS = 3
SEED = 2024
# Zone boundaries in minutes of the day: night, day, evening, late evening.
ZONES = {
    "night": (0, 360),
    "day": (360, 1200),
    "evening": (1200, 1320),
    "late_evening": (1320, 1440),
}

type IntArray = npt.NDArray[np.int64]


def room_minutes(days: int, seed: int) -> npt.NDArray[np.int8]:
    """One room's on/off minutes (1 on, 0 off, -1 missing), days x 1440."""
    rng = np.random.default_rng(seed)
    on = np.zeros((days, 1440), dtype=np.int8)
    for day in range(days):
        if rng.random() < 0.08:  # away: the light stays off all day
            continue
        weekend = day % 7 in (5, 6)
        if not weekend and rng.random() < 0.7:  # morning before work
            start = int(rng.normal(390, 15))
            on[day, start : start + int(rng.integers(20, 60))] = 1
        if rng.random() < 0.15:  # a dark afternoon
            start = int(rng.integers(720, 1000))
            on[day, start : start + int(rng.integers(30, 180))] = 1
        # Evening: on around dusk, off at bedtime, sometimes a break.
        start = int(rng.normal(1080 + 20 * math.sin(day / 58), 25))
        end = int(rng.normal(1380 if weekend else 1350, 30))
        on[day, start : min(end, 1440)] = 1
        if rng.random() < 0.3:
            pause = int(rng.integers(start, max(start + 1, end - 30)))
            on[day, pause : pause + int(rng.integers(5, 25))] = 0
        if end > 1440:
            on[day + 1 if day + 1 < days else day, : end - 1440] = 1
        for _ in range(rng.poisson(0.4)):  # a short visit at night
            start = int(rng.integers(0, 330))
            on[day, start : start + int(rng.integers(2, 12))] = 1
    flat = on.reshape(-1)
    for _ in range(rng.poisson(days / 4)):  # sensor gaps
        start = int(rng.integers(0, flat.size))
        flat[start : start + int(rng.geometric(1 / 40))] = -1
    return flat.reshape(days, 1440)


def alternating_sequences(days: int, seed: int) -> tuple[IntArray, IntArray]:
    """Return a day zone (6-20 h) of `days` days, its symbol flipping every minute or two.

    Each minute keeps the symbol before it with probability 0.35; a few
    sensor gaps split the days into sequences as in the lamp-like data.
    """
    rng = np.random.default_rng(seed)
    lo, hi = ZONES["day"]
    seqs: list[IntArray] = []
    for _day in range(days):
        flips = rng.random(hi - lo) >= 0.35
        day = (np.cumsum(flips) % 2).astype(np.int64)
        if rng.random() < 0.3:  # a gap
            cut = int(rng.integers(60, hi - lo - 60))
            seqs += [day[:cut], day[cut + int(rng.integers(2, 30)) :]]
        else:
            seqs.append(day)
    return np.concatenate(seqs), np.array([len(s) for s in seqs])


def zone_sequences(
    minutes: npt.NDArray[np.int8],
) -> dict[str, tuple[IntArray, IntArray]]:
    """Split each zone of each day into sequences at gaps (hmmlearn form)."""
    out: dict[str, tuple[IntArray, IntArray]] = {}
    for zone, (lo, hi) in ZONES.items():
        seqs: list[IntArray] = []
        for day in minutes[:, lo:hi]:
            valid = day >= 0
            edges = np.flatnonzero(np.diff(np.r_[0, valid.astype(np.int8), 0]))
            for a, b in zip(edges[::2], edges[1::2], strict=True):
                seqs.append(day[a:b].astype(np.int64))
        out[zone] = (np.concatenate(seqs), np.array([len(s) for s in seqs]))
    return out


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn``."""
    return best_times(fn, repeats)[0]


def best_times(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best wall time and best CPU time of ``repeats`` calls of ``fn``.

    The CPU time (of this process) hardly depends on other jobs on the
    machine, the wall time does.
    """
    wall = cpu = math.inf
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def compare(
    cases: dict[str, tuple[IntArray, IntArray]], rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Fit each case with both libraries from the same start; timings, diffs.

    Returns (engine seconds, hmmlearn seconds, worst relative log-likelihood
    difference, worst absolute parameter difference), summed or maximised
    over the cases.
    """
    total_ours = total_ref = 0.0
    worst = worst_param = 0.0
    for zone, (x, lengths) in cases.items():
        start = {
            "startprob_": rng.dirichlet(np.ones(N_STATES)),
            "transmat_": rng.dirichlet(np.ones(N_STATES), size=N_STATES),
            "emissionprob_": rng.dirichlet(np.ones(2), size=N_STATES),
        }

        def ours_fit(
            start: dict[str, npt.NDArray[np.float64]] = start,
            x: IntArray = x,
            lengths: IntArray = lengths,
        ) -> CategoricalHMM:
            model = CategoricalHMM(
                N_STATES, n_features=2, n_iter=N_ITER, tol=-math.inf, init_params=""
            )
            for name, value in start.items():
                setattr(model, name, value.copy())
            return model.fit(x, lengths)

        def ref_fit(
            start: dict[str, npt.NDArray[np.float64]] = start,
            x: IntArray = x,
            lengths: IntArray = lengths,
        ) -> ReferenceHMM:
            model = ReferenceHMM(
                N_STATES,
                n_features=2,
                n_iter=N_ITER,
                tol=-math.inf,
                init_params="",
                implementation="scaling",
            )
            for name, value in start.items():
                setattr(model, name, value.copy())
            return model.fit(x.reshape(-1, 1), lengths)

        ours_model = ours_fit()
        ref_model = ref_fit()
        ours_hist = np.array(ours_model.monitor_history_)
        ref_hist = np.array(list(ref_model.monitor_.history))
        if not len(ours_hist) == len(ref_hist) == N_ITER:
            raise RuntimeError("both fits must run every EM iteration")
        rel = float(np.max(np.abs(ours_hist - ref_hist) / np.abs(ref_hist)))
        worst = max(worst, rel)
        param_diff = max(
            float(np.max(np.abs(getattr(ours_model, name) - getattr(ref_model, name))))
            for name in start
        )
        worst_param = max(worst_param, param_diff)
        t_ours = best_time(ours_fit, REPEATS)
        t_ref = best_time(ref_fit, REPEATS)
        total_ours += t_ours
        total_ref += t_ref
        print(
            f"zone {zone:<13} {len(lengths):4d} sequences {x.size:6d} minutes "
            f"on {x.mean():5.1%}: engine {t_ours:.4f} s, hmmlearn {t_ref:.4f} s "
            f"({N_ITER} EM iterations); loglik rel diff {rel:.1e}, "
            f"parameters max abs diff {param_diff:.1e}"
        )
    print(
        f"all zones, {N_ITER} EM iterations, best of {REPEATS}: "
        f"engine {total_ours:.4f} s, hmmlearn {total_ref:.4f} s"
    )
    return total_ours, total_ref, worst, worst_param


def restarts(x: IntArray, lengths: IntArray) -> tuple[float, float, float, float]:
    """``fit_best`` with three restarts against three hmmlearn fits.

    Three restarts, each from the parameters ``fit_best`` draws for it, run
    the same fixed number of EM iterations in both libraries; the best model
    of each is compared. Returns (engine seconds, hmmlearn seconds, relative
    log-likelihood difference, absolute parameter difference).
    """
    starts = []
    for seed in np.random.SeedSequence(SEED).spawn(3):
        # n_iter=0: only the initial parameters, drawn as fit_best draws them.
        drawn = CategoricalHMM(
            N_STATES, n_features=2, n_iter=0, random_state=np.random.default_rng(seed)
        ).fit(x, lengths)
        starts.append(
            {
                name: getattr(drawn, name)
                for name in ("startprob_", "transmat_", "emissionprob_")
            }
        )

    def ours_fit() -> CategoricalHMM:
        return fit_best(
            x,
            lengths,
            n_components=N_STATES,
            n_restarts=3,
            n_iter=N_ITER,
            tol=-math.inf,
            n_features=2,
            random_state=SEED,
            # Every restart to the end, as the three reference fits.
            keep_best_after=None,
        )

    def ref_fit() -> ReferenceHMM:
        models = []
        for start in starts:
            model = ReferenceHMM(
                N_STATES,
                n_features=2,
                n_iter=N_ITER,
                tol=-math.inf,
                init_params="",
                implementation="scaling",
            )
            for name, value in start.items():
                setattr(model, name, value.copy())
            models.append(model.fit(x.reshape(-1, 1), lengths))
        scores = [m.score(x.reshape(-1, 1), lengths) for m in models]
        return models[int(np.argmax(scores))]

    ours_model = ours_fit()
    ref_model = ref_fit()
    ours_hist = np.array(ours_model.monitor_history_)
    ref_hist = np.array(list(ref_model.monitor_.history))
    rel = float(np.max(np.abs(ours_hist - ref_hist) / np.abs(ref_hist)))
    param_diff = max(
        float(np.max(np.abs(getattr(ours_model, name) - getattr(ref_model, name))))
        for name in starts[0]
    )
    t_ours = best_time(ours_fit, REPEATS)
    t_ref = best_time(ref_fit, REPEATS)
    print(
        f"alternating zone, fit_best with 3 restarts, {N_ITER} EM "
        f"iterations each, best of {REPEATS}: engine {t_ours:.4f} s, hmmlearn "
        f"(3 fits) {t_ref:.4f} s; best model's loglik rel diff {rel:.1e}, "
        f"parameters max abs diff {param_diff:.1e}"
    )
    return t_ours, t_ref, rel, param_diff


def main() -> None:
    """Run the benchmark and print its figures."""
    minutes = room_minutes(DAYS, SEED)
    zones = zone_sequences(minutes)
    rng = np.random.default_rng(SEED)
    print(f"load average before the run: {os.getloadavg()[0]:.2f} (2-core machine)")
    total_ours, total_ref, worst, worst_param = compare(zones, rng)
    alt = {"alternating": alternating_sequences(DAYS, SEED)}
    alt_ours, alt_ref, alt_worst, alt_param = compare(alt, rng)
    multi_ours, multi_ref, multi_worst, multi_param = restarts(*alt["alternating"])
    worst = max(worst, alt_worst, multi_worst)
    worst_param = max(worst_param, alt_param, multi_param)

    models: list[CategoricalHMM] = []

    def room_fit() -> None:
        models[:] = [
            fit_best(x, lengths, n_components=N_STATES, n_restarts=3, random_state=0)
            for x, lengths in zones.values()
        ]

    t_room, cpu_room = best_times(room_fit, 2)
    iterations = [len(m.monitor_history_) for m in models]
    print(
        f"whole room fit with restarts (4 zones x fit_best, 3 restarts, "
        f"{N_STATES} states, n_iter=100, tol=1e-4), best of 2: {t_room:.3f} s "
        f"wall, {cpu_room:.3f} s CPU; EM iterations of the kept models {iterations}"
    )
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    print(
        f"RESULT fit_ratio={total_ours / total_ref:.3f} "
        f"alternating_fit_ratio={alt_ours / alt_ref:.3f} "
        f"alternating_restarts_ratio={multi_ours / multi_ref:.3f} "
        f"loglik_rel_diff={worst:.2e} param_abs_diff={worst_param:.2e} "
        f"room_seconds={t_room:.3f} room_cpu_seconds={cpu_room:.3f}"
    )


if __name__ == "__main__":
    main()
