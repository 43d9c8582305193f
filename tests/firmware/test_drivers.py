"""The TSL2591 and BH1750 drivers on MicroPython's unix port with a fake bus.

The fake chips (tests/firmware/fakes) answer register reads and turn a light
level into raw counts the way the datasheets describe; the expected lux
values below are computed independently here from the datasheet formulas.
"""

from __future__ import annotations

from typing import Any

from lux_node import run_result
import pytest


def tsl_lux(ch0: int, ch1: int, gain: float, atime_ms: float) -> float:
    """Lux from the TSL2591 counts (ams coefficients, device factor 408)."""
    cpl = atime_ms * gain / 408.0
    return max((ch0 - 1.64 * ch1) / cpl, (0.59 * ch0 - 0.86 * ch1) / cpl, 0.0)


def test_tsl2591_lux_math_for_known_counts() -> None:
    """lux_from_counts matches the datasheet equation at every gain."""
    cases = [
        (1000, 200, 0x00, 0, 1.0, 100.0),
        (30000, 5000, 0x10, 0, 25.0, 100.0),
        (500, 100, 0x20, 2, 428.0, 300.0),
        (20000, 15000, 0x30, 5, 9876.0, 600.0),  # channel 1 dominates -> 0 lx
    ]
    body = (
        "from drivers.tsl2591 import lux_from_counts\n"
        f"result = [lux_from_counts(a, b, g, t) for a, b, g, t, *_ in {cases!r}]"
    )
    got = run_result(body, {"device": "tsl2591"})
    for value, (ch0, ch1, _g, _t, gain, ms) in zip(got, cases, strict=True):
        assert value == pytest.approx(tsl_lux(ch0, ch1, gain, ms), rel=1e-5)
    assert got[3] == 0.0


def test_tsl2591_setup_writes_registers() -> None:
    """Init checks the ID and enables the ADC at medium gain, 100 ms."""
    body = (
        "machine.I2C.log = []\n"
        "from drivers.tsl2591 import TSL2591\n"
        "TSL2591(machine.I2C())\n"
        "result = [(op, a, r, list(b)) for op, a, r, b in machine.I2C.log]"
    )
    log = run_result(body, {"device": "tsl2591"})
    assert log[0] == ["r", 0x29, 0xA0 | 0x12, [0x50]]  # ID register via command bit
    writes = [(r, b[0]) for op, _a, r, b in log if op == "w"]
    assert writes == [(0xA0, 0x01), (0xA1, 0x10), (0xA0, 0x03)]  # PON, gain, PON|AEN


def test_tsl2591_reads_room_light() -> None:
    """An ordinary room level stays in the starting range and reads right."""
    got = run_result(
        "from drivers.tsl2591 import TSL2591\n"
        "s = TSL2591(machine.I2C())\n"
        "result = [s.read_lux(), s.range]",
        {"device": "tsl2591", "lux": [250.0]},
    )
    assert got[0] == pytest.approx(250.0, rel=0.01)
    assert got[1] == 1


def test_tsl2591_auto_ranges_down_in_daylight() -> None:
    """Daylight saturates medium gain; the driver steps down to low gain."""
    got = run_result(
        "from drivers.tsl2591 import TSL2591\n"
        "s = TSL2591(machine.I2C())\n"
        "result = [s.read_lux(), s.range]",
        {"device": "tsl2591", "lux": [30000.0]},
    )
    assert got[1] == 0
    assert got[0] == pytest.approx(30000.0, rel=0.01)


def test_tsl2591_auto_ranges_up_in_the_dark() -> None:
    """A dark room steps up to maximum gain and the longest integration."""
    got = run_result(
        "from drivers.tsl2591 import TSL2591\n"
        "s = TSL2591(machine.I2C())\n"
        "result = [s.read_lux(), s.range]",
        {"device": "tsl2591", "lux": [0.05]},
    )
    assert got[1] == 5
    assert got[0] == pytest.approx(0.05, rel=0.05)


def test_tsl2591_beyond_range_is_infinite() -> None:
    """Saturated even at the least sensitive setting: inf, never a wrong number."""
    got = run_result(
        "from drivers.tsl2591 import TSL2591\n"
        "s = TSL2591(machine.I2C())\n"
        "v = s.read_lux()\n"
        "result = [v == float('inf'), s.range]",
        {"device": "tsl2591", "lux": [500000.0]},
    )
    assert got == [True, 0]


@pytest.mark.parametrize(
    ("scenario", "errno"),
    [
        ({"device": "none"}, 19),
        ({"device": "bh1750"}, 19),
        ({"device": "tsl2591", "fail_after": 0}, 5),
    ],
    ids=["absent", "other-chip", "bus-error"],
)
def test_tsl2591_missing_chip_raises_oserror(
    scenario: dict[str, Any], errno: int
) -> None:
    """No ACK (ENODEV) or a bus error (EIO) surfaces as OSError."""
    got = run_result(
        "from drivers.tsl2591 import TSL2591\n"
        "try:\n"
        "    TSL2591(machine.I2C())\n"
        "    result = None\n"
        "except OSError as e:\n"
        "    result = e.args[0]",
        scenario,
    )
    assert got == errno


def bh_lux(raw: int, mtreg: int, mode2: bool) -> float:
    """Lux from a BH1750 result (datasheet: counts / 1.2, scaled by MTreg)."""
    return raw / 1.2 * (69 / mtreg) / (2 if mode2 else 1)


def test_bh1750_lux_math_for_known_raw() -> None:
    """lux_from_raw matches the datasheet for both modes and several MTreg."""
    cases = [(1000, 0x20, 69), (1000, 0x21, 69), (50000, 0x20, 31), (300, 0x21, 254)]
    got = run_result(
        "from drivers.bh1750 import lux_from_raw\n"
        f"result = [lux_from_raw(r, m, t) for r, m, t in {cases!r}]",
        {"device": "bh1750"},
    )
    for value, (raw, mode, mtreg) in zip(got, cases, strict=True):
        assert value == pytest.approx(bh_lux(raw, mtreg, mode == 0x21), rel=1e-6)


def test_bh1750_instructions_and_reading() -> None:
    """Power on, reset, MTreg 69 in two writes, one-time H-res, then read."""
    got = run_result(
        "machine.I2C.log = []\n"
        "from drivers.bh1750 import BH1750\n"
        "s = BH1750(machine.I2C())\n"
        "v = s.read_lux()\n"
        "result = [v, s.range, [(op, a, list(b)) for op, a, r, b in machine.I2C.log]]",
        {"device": "bh1750", "lux": [5000.0]},
    )
    value, rng, log = got
    assert value == pytest.approx(5000.0, rel=0.01)
    assert rng == 1
    writes = [b[0] for op, a, b in log if op == "w"]
    assert all(a == 0x23 for _op, a, _b in log)
    assert writes[:4] == [0x01, 0x07, 0x40 | (69 >> 5), 0x60 | (69 & 0x1F)]
    assert writes[4] == 0x20


def test_bh1750_auto_ranges() -> None:
    """Dim light goes to H-res2 with MTreg 254; sunlight to MTreg 31."""
    dim = run_result(
        "from drivers.bh1750 import BH1750\n"
        "s = BH1750(machine.I2C())\n"
        "result = [s.read_lux(), s.range]",
        {"device": "bh1750", "lux": [3.0]},
    )
    assert dim[1] == 3
    assert dim[0] == pytest.approx(3.0, abs=0.1)
    sun = run_result(
        "from drivers.bh1750 import BH1750\n"
        "s = BH1750(machine.I2C())\n"
        "result = [s.read_lux(), s.range]",
        {"device": "bh1750", "lux": [90000.0]},
    )
    assert sun[1] == 0
    assert sun[0] == pytest.approx(90000.0, rel=0.01)
    over = run_result(
        "from drivers.bh1750 import BH1750\n"
        "s = BH1750(machine.I2C())\n"
        "result = s.read_lux() == float('inf')",
        {"device": "bh1750", "lux": [200000.0]},
    )
    assert over is True


def test_bh1750_absent_raises_oserror() -> None:
    """No chip at 0x23: OSError(ENODEV) from the constructor."""
    got = run_result(
        "from drivers.bh1750 import BH1750\n"
        "try:\n"
        "    BH1750(machine.I2C())\n"
        "    result = None\n"
        "except OSError as e:\n"
        "    result = e.args[0]",
        {"device": "none"},
    )
    assert got == 19


def test_open_sensor_by_name() -> None:
    """drivers.open_sensor picks the class; an unknown name is a ValueError."""
    got = run_result(
        "from drivers import open_sensor\n"
        "a = type(open_sensor('tsl2591', machine.I2C())).__name__\n"
        "try:\n"
        "    open_sensor('veml7700', machine.I2C())\n"
        "    b = None\n"
        "except ValueError:\n"
        "    b = 'ValueError'\n"
        "result = [a, b]",
        {"device": "tsl2591"},
    )
    assert got == ["TSL2591", "ValueError"]
