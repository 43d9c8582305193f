"""TSL2591 light-to-digital converter (ams), I2C address 0x29.

Two photodiodes: channel 0 sees visible + infrared, channel 1 infrared only.
Lux comes from both counts scaled by gain and integration time. The driver
ranges itself: it steps to a less sensitive setting when channel 0 saturates
and to a more sensitive one when the light is so dim that the counts would
stay below half scale there, so the same chip reads a dark room (~0.01 lx)
and daylight (~88 000 lx).
"""

import time

from micropython import const

ADDRESS = const(0x29)
# Command register: CMD bit + "normal operation" transaction type.
_COMMAND = const(0xA0)

_ENABLE = const(0x00)
_CONTROL = const(0x01)
_ID = const(0x12)
_STATUS = const(0x13)
_C0DATAL = const(0x14)  # C0DATAL, C0DATAH, C1DATAL, C1DATAH follow each other

_ENABLE_PON = const(0x01)
_ENABLE_AEN = const(0x02)
_STATUS_AVALID = const(0x01)
_CHIP_ID = const(0x50)

# Gain codes (_CONTROL bits 5:4) and their typical multipliers.
GAIN_LOW = const(0x00)
GAIN_MEDIUM = const(0x10)
GAIN_HIGH = const(0x20)
GAIN_MAX = const(0x30)
GAIN_FACTOR = (1.0, 25.0, 428.0, 9876.0)  # indexed by gain code >> 4

# Integration time code n (_CONTROL bits 2:0) lasts (n + 1) * 100 ms.
# Settings from least to most sensitive: (gain code, integration time code).
RANGES = (
    (GAIN_LOW, 0),
    (GAIN_MEDIUM, 0),
    (GAIN_HIGH, 0),
    (GAIN_MAX, 0),
    (GAIN_MAX, 2),
    (GAIN_MAX, 5),
)
START_RANGE = 1

# Lux equation coefficients (ams application data for the TSL2591).
DEVICE_FACTOR = 408.0
COEF_B = 1.64
COEF_C = 0.59
COEF_D = 0.86

# Channel 0 at or above this fraction of full scale counts as saturated.
SATURATED = 0.98
# Step up when the counts would stay below this fraction of full scale.
HEADROOM = 0.5


def full_scale(atime):
    """Largest count for an integration time code (100 ms cannot reach 65535)."""
    return 36863 if atime == 0 else 65535


def lux_from_counts(ch0, ch1, gain, atime):
    """Lux for raw channel counts at a gain code and integration time code."""
    counts_per_lux = (atime + 1) * 100.0 * GAIN_FACTOR[gain >> 4] / DEVICE_FACTOR
    lux1 = (ch0 - COEF_B * ch1) / counts_per_lux
    lux2 = (COEF_C * ch0 - COEF_D * ch1) / counts_per_lux
    return max(lux1, lux2, 0.0)


class TSL2591:
    """The TSL2591 on an injected I2C bus, auto-ranging."""

    def __init__(self, i2c, address=ADDRESS):
        """Check the chip id, power it up and start measuring."""
        self.i2c = i2c
        self.address = address
        self._buf1 = bytearray(1)
        self._buf4 = bytearray(4)
        if self._read_reg(_ID) != _CHIP_ID:
            raise OSError(19)  # ENODEV: something else answers at 0x29
        self.range = START_RANGE
        self._apply_range()

    def _write_reg(self, reg, value):
        self._buf1[0] = value
        self.i2c.writeto_mem(self.address, _COMMAND | reg, self._buf1)

    def _read_reg(self, reg):
        self.i2c.readfrom_mem_into(self.address, _COMMAND | reg, self._buf1)
        return self._buf1[0]

    def _apply_range(self):
        gain, atime = RANGES[self.range]
        # Power the ADCs off while changing settings so the next valid result
        # is a whole integration at the new settings.
        self._write_reg(_ENABLE, _ENABLE_PON)
        self._write_reg(_CONTROL, gain | atime)
        self._write_reg(_ENABLE, _ENABLE_PON | _ENABLE_AEN)

    def _wait_valid(self):
        # One integration takes (atime + 1) * 100 ms; allow one more cycle.
        period = (RANGES[self.range][1] + 1) * 100
        deadline = time.ticks_add(time.ticks_ms(), 2 * period + 50)
        while not self._read_reg(_STATUS) & _STATUS_AVALID:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise OSError(110)  # ETIMEDOUT: the ADC never finished
            time.sleep_ms(10)

    def read_counts(self):
        """Wait for a fresh result and return (channel 0, channel 1)."""
        self._wait_valid()
        self.i2c.readfrom_mem_into(self.address, _COMMAND | _C0DATAL, self._buf4)
        buf = self._buf4
        return buf[0] | buf[1] << 8, buf[2] | buf[3] << 8

    def read_lux(self):
        """Lux now; inf when even the least sensitive range saturates.

        Raises ``OSError`` when the bus or the chip fails.
        """
        for _ in range(len(RANGES)):
            ch0, ch1 = self.read_counts()
            gain, atime = RANGES[self.range]
            top = full_scale(atime)
            if ch0 >= SATURATED * top or ch1 >= SATURATED * top:
                if self.range == 0:
                    return float("inf")
                self.range -= 1
                self._apply_range()
                continue
            if self.range + 1 < len(RANGES):
                up_gain, up_atime = RANGES[self.range + 1]
                more = (GAIN_FACTOR[up_gain >> 4] * (up_atime + 1)) / (
                    GAIN_FACTOR[gain >> 4] * (atime + 1)
                )
                if ch0 * more < HEADROOM * full_scale(up_atime):
                    self.range += 1
                    self._apply_range()
                    continue
            return lux_from_counts(ch0, ch1, gain, atime)
        # Light changed while ranging: take a reading at the settings reached.
        ch0, ch1 = self.read_counts()
        gain, atime = RANGES[self.range]
        top = full_scale(atime)
        if ch0 >= SATURATED * top or ch1 >= SATURATED * top:
            return float("inf")
        return lux_from_counts(ch0, ch1, gain, atime)

    def power_off(self):
        """Stop measuring (saves ~0.4 mA before deep sleep)."""
        self._write_reg(_ENABLE, 0)
