"""play: Hue lights switched at the schedule's moments, at accelerated time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from fake_hue_bridge import USERNAME, Switch, running_bridge
import numpy as np
import pytest
from workbench_data import SUNNYVALE

from lighting_replay_engine.model import HomeModel
from lighting_replay_engine.schedule import DaySchedule, sample_day
from lighting_replay_trainer.cli import main
from lighting_replay_trainer.hue import (
    HueLights,
    Player,
    SteppedClock,
    brightness_of,
    parse_light_mapping,
)

# Home Assistant's test plugin blocks sockets; the fake bridge is on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")

LIGHTS = {"1": "Kitchen lamp", "2": "Sofa", "3": "Reading lamp", "4": "Hall"}
MAPPING = {"kitchen": ["Kitchen lamp"], "living_room": ["Sofa", "Reading lamp"]}


def expected_switches(
    model: HomeModel,
    mapping: dict[str, list[str]],
    start: datetime,
    until: datetime,
    seed: int,
) -> dict[str, list[tuple[datetime, bool, int | None]]]:
    """What each light must do: sample the days as the player must, then
    list the moments the wanted state of a room changes."""
    tz = model.location.tzinfo
    rng = np.random.default_rng(seed)
    schedules: dict[date, dict[str, DaySchedule]] = {}
    day = start.astimezone(tz).date()
    while datetime.combine(day, datetime.min.time(), tz) < until:
        schedules[day] = {
            room: sample_day(model.rooms[room], day, model.location, rng=rng)
            for room in mapping
        }
        day += timedelta(days=1)
    moments = {
        start,
        *(datetime.combine(d, datetime.min.time(), tz) for d in schedules),
    }
    for rooms in schedules.values():
        for schedule in rooms.values():
            moments.update(c.at for c in schedule.changes())
    ordered = sorted(m for m in moments if start <= m < until)
    result: dict[str, list[tuple[datetime, bool, int | None]]] = {
        name: [] for names in mapping.values() for name in names
    }
    for room, names in mapping.items():
        last: tuple[bool, int | None] | None = None
        for moment in ordered:
            local = moment.astimezone(tz)
            interval = schedules[local.date()][room].state_at(local)
            wanted = (
                (False, None)
                if interval is None
                else (True, brightness_of(model.rooms[room], interval.level))
            )
            if wanted != last:
                for name in names:
                    result[name].append((moment, *wanted))
                last = wanted
    return result


def as_tuples(switches: list[Switch]) -> list[tuple[datetime, bool, int | None]]:
    return [(s.at, bool(s.state["on"]), s.state.get("bri")) for s in switches]


def test_lights_switch_at_the_schedules_moments_across_dst(
    simulated_model: Path, tmp_path: Path
) -> None:
    model = HomeModel.load(simulated_model)
    # Three days over the spring-forward night of 2024-03-10.
    start = datetime(2024, 3, 9, 15, 0, tzinfo=SUNNYVALE.tzinfo)
    until = start + timedelta(days=3)
    clock = SteppedClock(start)
    with running_bridge(LIGHTS, clock.now) as bridge:
        lights = HueLights(
            bridge.address, username=USERNAME, config_file=tmp_path / "hue.json"
        )
        assert lights.names() == sorted(LIGHTS.values())
        player = Player(
            model,
            lights,
            MAPPING,
            clock,
            rng=np.random.default_rng(11),
            log=lambda _: None,
        )
        player.light_test(seconds=2.0)
        test_end = clock.now()
        player.run(until)
    assert test_end == start + timedelta(seconds=2.0 * 3)
    expected = expected_switches(model, MAPPING, test_end, until, seed=11)
    assert sum(len(v) for v in expected.values()) > 8
    for name in ("Kitchen lamp", "Sofa", "Reading lamp"):
        done = bridge.of(name)
        # The light test: briefly on, then off.
        assert [s.state["on"] for s in done[:2]] == [True, False]
        assert done[1].at - done[0].at == timedelta(seconds=2)
        replay = as_tuples(done[2:])
        # All off when the replay ends.
        assert replay[-1][0] == until
        assert replay[-1][1] is False
        body = replay[:-1]
        want = expected[name]
        assert len(body) == len(want), (name, body, want)
        for (at, on, bri), (want_at, want_on, want_bri) in zip(body, want, strict=True):
            assert abs((at - want_at).total_seconds()) < 1.0
            assert (on, bri) == (want_on, want_bri)
    # A light of no room is never touched.
    assert bridge.of("Hall") == []
    # The replay went on past the night the clocks changed.
    after_dst = [
        s
        for s in bridge.of("Sofa")
        if s.at.astimezone(SUNNYVALE.tzinfo).utcoffset() == timedelta(hours=-7)
    ]
    assert after_dst


class InterruptingClock(SteppedClock):
    """Stops the replay with Ctrl-C on the n-th wait."""

    def __init__(self, start: datetime, after: int) -> None:
        super().__init__(start)
        self.left = after

    def sleep(self, seconds: float) -> None:
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt
        super().sleep(seconds)


def test_ctrl_c_switches_every_light_off(simulated_model: Path, tmp_path: Path) -> None:
    model = HomeModel.load(simulated_model)
    # Evening: the living room's lamps are likely on when Ctrl-C comes.
    clock = InterruptingClock(datetime(2024, 3, 8, 19, 0, tzinfo=SUNNYVALE.tzinfo), 5)
    with running_bridge(LIGHTS, clock.now) as bridge:
        lights = HueLights(
            bridge.address, username=USERNAME, config_file=tmp_path / "hue.json"
        )
        player = Player(
            model, lights, MAPPING, clock, rng=np.random.default_rng(2), log=print
        )
        with pytest.raises(KeyboardInterrupt):
            player.run()
    for name in ("Kitchen lamp", "Sofa", "Reading lamp"):
        assert bridge.of(name)
        assert bridge.of(name)[-1].state == {"on": False}
        assert (
            bridge.states[next(k for k, v in LIGHTS.items() if v == name)]["on"]
            is False
        )


def test_the_command_registers_tests_lights_and_replays(
    simulated_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "phue.json"
    with running_bridge(LIGHTS) as bridge:
        code = main(
            ["play", "--model", str(simulated_model), "--bridge", bridge.address,
             "--hue-config", str(config), "--light", "kitchen=Kitchen lamp",
             "--light", "living_room=Sofa", "--simulate", "--days", "2",
             "--start-at", "2024-03-07T17:00", "--seed", "3", "--test-seconds", "0"]
        )  # fmt: skip
    assert code == 0
    # phue registered with the bridge and kept the user in the given file.
    assert bridge.registrations == 1
    assert json.loads(config.read_text()) == {bridge.address: {"username": USERNAME}}
    for name in ("Kitchen lamp", "Sofa"):
        states = [s.state for s in bridge.of(name)]
        assert states[:2] == [{"on": True, "bri": 254}, {"on": False}]
        assert len(states) > 3
        assert states[-1] == {"on": False}
    assert bridge.of("Reading lamp") == []
    err = capsys.readouterr().err
    assert "light test: kitchen / Kitchen lamp" in err
    assert "2024-03-08 kitchen:" in err


def test_dry_run_prints_the_switches(
    simulated_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["play", "--model", str(simulated_model), "--dry-run", "--simulate",
         "--days", "1", "--start-at", "2024-03-07T00:00", "--seed", "3",
         "--no-light-test", "--full-brightness"]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    # Without a mapping every room drives a light named after it.
    rooms = {line.split()[1].rstrip(":") for line in out}
    assert rooms == set(HomeModel.load(simulated_model).rooms)
    assert any(line.endswith("on (brightness None)") for line in out)
    assert out[-1].endswith("off")


def test_unknown_lights_and_rooms_are_one_line(
    simulated_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_bridge(LIGHTS) as bridge:
        base = ["play", "--model", str(simulated_model), "--bridge", bridge.address,
                "--username", USERNAME, "--no-light-test"]  # fmt: skip
        assert main([*base, "--light", "kitchen=Disco ball"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert "lights not found: Disco ball" in err[0]
        assert "Kitchen lamp" in err[0]
        assert main([*base, "--light", "attic=Hall"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert "rooms not in the model: attic" in err[0]
        wrong_user = [*base[:-3], "--username", "stranger", "--no-light-test"]
        assert main([*wrong_user, "--light", "kitchen=Hall"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert "refused the user" in err[0]
    assert bridge.switches == []


def test_light_mapping_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "lights.json"
    path.write_text(json.dumps({"kitchen": "Kitchen lamp", "living_room": ["Sofa"]}))
    mapping = parse_light_mapping(["living_room=Reading lamp"], path)
    assert mapping == {
        "kitchen": ["Kitchen lamp"],
        "living_room": ["Sofa", "Reading lamp"],
    }


def script() -> list[str]:
    """The installed console script, else the module run by this Python."""
    installed = Path(sys.executable).with_name("lighting-replay")
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-m", "lighting_replay_trainer"]


def test_sigterm_switches_every_light_off(
    simulated_model: Path, tmp_path: Path
) -> None:
    with running_bridge(LIGHTS) as bridge:
        process = subprocess.Popen(
            [*script(), "play", "--model", str(simulated_model), "--bridge",
             bridge.address, "--username", USERNAME, "--light", "kitchen=Kitchen lamp",
             "--light", "living_room=Sofa", "--test-seconds", "0.2", "--seed", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            # Light test (2 switches per light) and the first replayed state.
            while len(bridge.of("Sofa")) < 3 or len(bridge.of("Kitchen lamp")) < 3:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the replay did not start"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 130, err
    assert b"all lights off" in err
    for name in ("Kitchen lamp", "Sofa"):
        assert bridge.of(name)[-1].state == {"on": False}
