"""BH1750FVI ambient light sensor (ROHM), I2C address 0x23 (ADDR low) or 0x5C.

The chip has no registers, only one-byte instructions. The driver uses
one-time measurements (the chip powers down after each one) and ranges itself
with the measurement time register MTreg and the two high-resolution modes:
less sensitive when the 16-bit result saturates, more sensitive when the
result would stay small there (dim light). This spans about 0.1 to 120 000 lx.
"""

import time

from micropython import const

_ADDRESS = const(0x23)

_POWER_DOWN = const(0x00)
_POWER_ON = const(0x01)
_RESET = const(0x07)
_ONE_TIME_HIGH_RES = const(0x20)  # 1 lx resolution at the default MTreg
_ONE_TIME_HIGH_RES2 = const(0x21)  # 0.5 lx resolution at the default MTreg
_MTREG_HIGH = const(0x40)  # | MTreg bits 7:5
_MTREG_LOW = const(0x60)  # | MTreg bits 4:0

_MTREG_DEFAULT = const(69)
_MTREG_MIN = const(31)
_MTREG_MAX = const(254)

# Settings from least to most sensitive: (one-time mode, MTreg).
RANGES = (
    (_ONE_TIME_HIGH_RES, _MTREG_MIN),
    (_ONE_TIME_HIGH_RES, _MTREG_DEFAULT),
    (_ONE_TIME_HIGH_RES2, _MTREG_DEFAULT),
    (_ONE_TIME_HIGH_RES2, _MTREG_MAX),
)
_START_RANGE = const(1)

# Counts per lux at the default MTreg in high-resolution mode (datasheet).
COUNTS_PER_LUX = 1.2
_FULL_SCALE = const(65535)
SATURATED = 0.98
# Step up only when the result would stay below this fraction of full scale:
# the sensitive settings measure for up to 0.66 s, worth it only in dim light.
HEADROOM = 0.05
# Longest high-resolution measurement at the default MTreg, in ms.
_MAX_MEASURE_MS = const(180)


def sensitivity(mode, mtreg):
    """Return the counts per lux for a mode and MTreg."""
    factor = 2.0 if mode == _ONE_TIME_HIGH_RES2 else 1.0
    return COUNTS_PER_LUX * factor * mtreg / _MTREG_DEFAULT


def lux_from_raw(raw, mode, mtreg):
    """Lux for a raw 16-bit result measured in ``mode`` with ``mtreg``."""
    return raw / sensitivity(mode, mtreg)


class BH1750:
    """The BH1750 on an injected I2C bus, auto-ranging."""

    def __init__(self, i2c, address=_ADDRESS):
        """Power the chip on; raises ``OSError`` when it does not answer."""
        self.i2c = i2c
        self.address = address
        self._cmd = bytearray(1)
        self._buf2 = bytearray(2)
        self._command(_POWER_ON)
        self._command(_RESET)
        self.range = _START_RANGE
        self._mtreg = 0
        self._set_mtreg(RANGES[self.range][1])

    def _command(self, opcode):
        self._cmd[0] = opcode
        self.i2c.writeto(self.address, self._cmd)

    def _set_mtreg(self, mtreg):
        if mtreg != self._mtreg:
            self._command(_MTREG_HIGH | mtreg >> 5)
            self._command(_MTREG_LOW | mtreg & 0x1F)
            self._mtreg = mtreg

    def read_raw(self):
        """Measure once at the current range and return the 16-bit result."""
        mode, mtreg = RANGES[self.range]
        self._set_mtreg(mtreg)
        self._command(mode)
        time.sleep_ms(_MAX_MEASURE_MS * mtreg // _MTREG_DEFAULT + 1)
        self.i2c.readfrom_into(self.address, self._buf2)
        return self._buf2[0] << 8 | self._buf2[1]

    def read_lux(self):
        """Lux now; inf when even the least sensitive range saturates.

        Raises ``OSError`` when the bus or the chip fails.
        """
        for _ in range(len(RANGES)):
            raw = self.read_raw()
            if raw >= SATURATED * _FULL_SCALE:
                if self.range == 0:
                    return float("inf")
                self.range -= 1
                continue
            if self.range + 1 < len(RANGES):
                more = sensitivity(*RANGES[self.range + 1]) / sensitivity(
                    *RANGES[self.range]
                )
                if raw * more < HEADROOM * _FULL_SCALE:
                    self.range += 1
                    continue
            return lux_from_raw(raw, *RANGES[self.range])
        raw = self.read_raw()
        if raw >= SATURATED * _FULL_SCALE:
            return float("inf")
        return lux_from_raw(raw, *RANGES[self.range])

    def power_off(self):
        """Power the chip down (it does after one-time readings anyway)."""
        self._command(_POWER_DOWN)
