"""filters.py on MicroPython: validity checks and the robust median filter."""

from __future__ import annotations

from lux_node import run_result
import pytest


def test_valid_rejects_non_numbers_nan_inf_and_out_of_range() -> None:
    """Only finite numbers from 0 to the maximum pass."""
    got = run_result(
        "from filters import valid\n"
        "cases = [0, 0.0, 12.5, 120000, -0.1, 120000.5, float('nan'), float('inf'),\n"
        "         float('-inf'), '12', None, b'1', True, [1]]\n"
        "result = [valid(v, 120000) for v in cases]"
    )
    assert got == [True, True, True, True] + [False] * 10


def test_median_filter_rejects_outliers() -> None:
    """A flash among steady readings is dropped; the rest are averaged."""
    got = run_result(
        "from filters import MedianFilter\n"
        "f = MedianFilter(5)\n"
        "for v in (100.0, 102.0, 5000.0, 98.0, 101.0):\n"
        "    f.add(v)\n"
        "result = [f.value(), f.rejected]"
    )
    assert got[0] == pytest.approx((100 + 102 + 98 + 101) / 4, rel=1e-5)
    assert got[1] == 1


def test_median_filter_keeps_noise_and_handles_few_readings() -> None:
    """Ordinary noise is kept; fewer readings than the size work; none -> None."""
    got = run_result(
        "from filters import MedianFilter\n"
        "f = MedianFilter(4)\n"
        "empty = f.value()\n"
        "for v in (10.0, 10.4, 9.7):\n"
        "    f.add(v)\n"
        "three = [f.value(), f.rejected]\n"
        "f.clear()\n"
        "f.add(0.02)\n"
        "result = [empty, three, f.value()]"
    )
    assert got[0] is None
    assert got[1][0] == pytest.approx((10.0 + 10.4 + 9.7) / 3, rel=1e-5)
    assert got[1][1] == 0
    assert got[2] == pytest.approx(0.02, rel=1e-5)


def test_median_filter_does_not_allocate_per_reading() -> None:
    """Nothing that survives grows with the number of readings."""
    got = run_result(
        "import gc\n"
        "from filters import MedianFilter\n"
        "f = MedianFilter(8)\n"
        "def cycles(n):\n"
        "    for _ in range(n):\n"
        "        f.clear()\n"
        "        for i in range(8):\n"
        "            f.add(100.0 + i)\n"
        "        f.value()\n"
        "cycles(5)\n"
        "gc.collect()\n"
        "a = gc.mem_alloc()\n"
        "cycles(200)\n"
        "gc.collect()\n"
        "result = gc.mem_alloc() - a"
    )
    assert got == 0
