"""A simulated BH1750: one-byte instructions, a two-byte result."""


class Chip:
    """Lit with the scenario's lux values."""

    address = 0x23

    def __init__(self, sc):
        self.lux = sc.get("lux", [100.0])
        self.conversions = 0
        self.mtreg = 69
        self.mode = 0

    def write(self, buf):
        op = buf[0]
        if op & 0xE0 == 0x40:
            self.mtreg = self.mtreg & 0x1F | (op & 7) << 5
        elif op & 0xE0 == 0x60:
            self.mtreg = self.mtreg & 0xE0 | op & 0x1F
        elif op in (0x10, 0x11, 0x13, 0x20, 0x21, 0x23):
            self.mode = op

    def read(self, buf):
        if not self.mode:
            raise OSError(5)  # nothing measured
        lux = self.lux[self.conversions % len(self.lux)]
        self.conversions += 1
        factor = 2 if self.mode & 0x0F == 1 else 1
        raw = int(min(lux * 1.2 * factor * self.mtreg / 69, 65535))
        buf[0] = raw >> 8
        buf[1] = raw & 0xFF
        if self.mode & 0x20:
            self.mode = 0  # one-time modes power down after a result
