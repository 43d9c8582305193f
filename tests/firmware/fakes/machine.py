"""Stand-in for MicroPython's ``machine`` on the unix port.

The I2C bus carries the simulated chip named in the JSON of the environment
variable FAKE_I2C, e.g.
``{"device": "tsl2591", "lux": [250, 260], "fail_after": 40, "fail_count": 5}``:
the chip sees the ``lux`` values in turn, one per conversion; after
``fail_after`` bus transactions the next ``fail_count`` (default: all) raise
OSError(EIO) like a chip that drops off the bus; an address nobody answers
raises OSError(ENODEV) as a real bus does without an ACK. Set ``I2C.log = []``
to record every transfer. FAKE_WDT=0 makes a board without a watchdog.
Kept small (chips in their own modules): the heap tests run it inside the
node's heap, where a board has ``machine`` in flash.
"""

import json
import os
import sys

# A pin is just its number here.
Pin = int


class I2C:
    """A bus with at most one simulated chip on it."""

    log = None

    def __init__(self, *args, **kwargs):
        sc = json.loads(os.getenv("FAKE_I2C") or "{}")
        self.chip = None
        if sc.get("device") == "tsl2591":
            from fake_tsl2591 import Chip

            self.chip = Chip(sc)
        elif sc.get("device") == "bh1750":
            from fake_bh1750 import Chip

            self.chip = Chip(sc)
        self.fail_after = sc.get("fail_after", -1)
        self.fail_count = sc.get("fail_count", 1 << 30)
        self.transactions = 0

    def _chip(self, addr):
        self.transactions += 1
        n = self.transactions - self.fail_after
        if self.fail_after >= 0 and 0 < n <= self.fail_count:
            raise OSError(5)  # EIO
        if self.chip is None or addr != self.chip.address:
            raise OSError(19)  # ENODEV: nobody acknowledged the address
        return self.chip

    def _log(self, op, addr, reg, buf):
        if I2C.log is not None:
            I2C.log.append((op, addr, reg, bytes(buf)))

    def writeto_mem(self, addr, reg, buf):
        self._log("w", addr, reg, buf)
        self._chip(addr).write_mem(reg, buf)

    def readfrom_mem_into(self, addr, reg, buf):
        self._chip(addr).read_mem(reg, buf)
        self._log("r", addr, reg, buf)

    def writeto(self, addr, buf):
        self._log("w", addr, None, buf)
        self._chip(addr).write(buf)
        return len(buf)

    def readfrom_into(self, addr, buf):
        self._chip(addr).read(buf)
        self._log("r", addr, None, buf)


SoftI2C = I2C


class WDT:
    """A watchdog that is never starved here."""

    def __init__(self, id=0, timeout=5000):
        pass

    def feed(self):
        pass


if os.getenv("FAKE_WDT") == "0":
    del WDT


def unique_id():
    return b"\xde\xad\xbe\xef"


def deepsleep(ms=0):
    print("machine: deepsleep", ms)
    sys.exit(0)


def reset():
    print("machine: reset")
    sys.exit(3)
