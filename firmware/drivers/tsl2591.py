"""TSL2591 light-to-digital converter (ams), I2C address 0x29.

Two photodiodes: channel 0 sees visible + infrared, channel 1 infrared only.
Lux comes from both counts scaled by gain and integration time. The driver
ranges itself: it steps to a less sensitive setting when a channel saturates
and to a more sensitive one when the counts would stay below half scale
there, so the same chip reads a dark room (~0.01 lx) and daylight (~88 000 lx).
Private consts cost no RAM on the board (the compiler inlines them).
"""

import time

from micropython import const

_ADDRESS = const(0x29)
# Command register: CMD bit + "normal operation" transaction type.
_COMMAND = const(0xA0)
_ENABLE = const(0x00)  # bit 0 PON (power on), bit 1 AEN (ADC enable)
_CONTROL = const(0x01)  # bits 5:4 gain code, bits 2:0 integration time code
_ID = const(0x12)  # reads 0x50
_STATUS = const(0x13)  # bit 0 AVALID: a whole integration is done
_C0DATAL = const(0x14)  # C0DATAL, C0DATAH, C1DATAL, C1DATAH follow each other

# Gain multipliers (typical, datasheet) indexed by gain code >> 4:
# low 1x, medium 25x, high 428x, maximum 9876x.
GAIN_FACTOR = (1.0, 25.0, 428.0, 9876.0)

# Settings from least to most sensitive: (gain code, integration time code);
# time code n integrates for (n + 1) * 100 ms.
RANGES = ((0x00, 0), (0x10, 0), (0x20, 0), (0x30, 0), (0x30, 2), (0x30, 5))


def lux_from_counts(ch0, ch1, gain, atime):
    """Return lux for raw channel counts at a gain code and time code.

    ams lux equation: counts per lux = time_ms * gain / 408 (device factor);
    lux = max((C0 - 1.64 C1), (0.59 C0 - 0.86 C1)) / counts per lux, >= 0.
    """
    counts_per_lux = (atime + 1) * 100.0 * GAIN_FACTOR[gain >> 4] / 408.0
    return max(ch0 - 1.64 * ch1, 0.59 * ch0 - 0.86 * ch1, 0.0) / counts_per_lux


class TSL2591:
    """The TSL2591 on an injected I2C bus, auto-ranging."""

    def __init__(self, i2c, address=_ADDRESS):
        """Check the chip id, power it up and start measuring."""
        self.i2c = i2c
        self.address = address
        self.buf = bytearray(4)
        self.one = bytearray(1)
        if self._reg(_ID) != 0x50:
            raise OSError(19)  # ENODEV: something else answers at 0x29
        self.range = 1
        self._apply_range()

    def _reg(self, reg, value=None):
        # Write ``value`` to ``reg``, or read and return it.
        buf = self.one
        if value is None:
            self.i2c.readfrom_mem_into(self.address, _COMMAND | reg, buf)
            return buf[0]
        buf[0] = value
        self.i2c.writeto_mem(self.address, _COMMAND | reg, buf)
        return None

    def _apply_range(self):
        gain, atime = RANGES[self.range]
        # ADC off while changing settings so the next valid result is a whole
        # integration at the new settings.
        self._reg(_ENABLE, 0x01)
        self._reg(_CONTROL, gain | atime)
        self._reg(_ENABLE, 0x03)

    def read_counts(self):
        """Wait for a fresh result and return (channel 0, channel 1)."""
        # One integration takes (atime + 1) * 100 ms; allow one more cycle.
        wait = 2 * (RANGES[self.range][1] + 1) * 100 + 50
        deadline = time.ticks_add(time.ticks_ms(), wait)
        while not self._reg(_STATUS) & 0x01:
            if time.ticks_diff(deadline, time.ticks_ms()) <= 0:
                raise OSError(110)  # ETIMEDOUT: the ADC never finished
            time.sleep_ms(10)
        buf = self.buf
        self.i2c.readfrom_mem_into(self.address, _COMMAND | _C0DATAL, buf)
        return buf[0] | buf[1] << 8, buf[2] | buf[3] << 8

    def read_lux(self):
        """Return lux now; inf when even the least sensitive range saturates.

        Raises ``OSError`` when the bus or the chip fails.
        """
        for attempt in range(len(RANGES) + 1):
            ch0, ch1 = self.read_counts()
            gain, atime = RANGES[self.range]
            # 100 ms integrations cannot count beyond 36863.
            top = 36863 if atime == 0 else 65535
            if max(ch0, ch1) >= 0.98 * top:
                if self.range == 0:
                    return float("inf")
                self.range -= 1
            elif self.range + 1 < len(RANGES) and attempt < len(RANGES):
                up_gain, up_atime = RANGES[self.range + 1]
                more = GAIN_FACTOR[up_gain >> 4] * (up_atime + 1)
                more /= GAIN_FACTOR[gain >> 4] * (atime + 1)
                if ch0 * more >= (32767 if up_atime else 18431):
                    return lux_from_counts(ch0, ch1, gain, atime)
                self.range += 1
            else:
                return lux_from_counts(ch0, ch1, gain, atime)
            if attempt == len(RANGES):
                # Still saturated after stepping down everywhere: too bright.
                return float("inf")
            self._apply_range()
        return float("inf")

    def power_off(self):
        """Stop measuring (saves ~0.4 mA before deep sleep)."""
        self._reg(_ENABLE, 0)
