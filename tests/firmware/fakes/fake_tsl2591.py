"""A simulated TSL2591: registers behind a command byte, two ADC channels."""


class Chip:
    """Lit with the scenario's lux values; channel 1 = ``ir_ratio`` x channel 0."""

    address = 0x29

    def __init__(self, sc):
        self.lux = sc.get("lux", [100.0])
        self.ir = sc.get("ir_ratio", 0.2)
        self.conversions = 0
        self.regs = bytearray(32)
        self.regs[0x12] = 0x50  # ID

    def write_mem(self, cmd, buf):
        if cmd & 0xE0 != 0xA0:
            raise OSError(5)  # not a command byte
        self.regs[cmd & 0x1F] = buf[0]

    def read_mem(self, cmd, buf):
        reg = cmd & 0x1F
        regs = self.regs
        if reg == 0x13:
            # Valid as soon as the ADC runs: no time passes in the fake.
            buf[0] = 1 if regs[0] & 3 == 3 else 0
        elif reg == 0x14:
            lux = self.lux[self.conversions % len(self.lux)]
            self.conversions += 1
            atime = regs[1] & 7
            gain = (1.0, 25.0, 428.0, 9876.0)[regs[1] >> 4 & 3]
            top = 36863 if atime == 0 else 65535
            # Inverse of the lux equation when channel 1 = ir * channel 0.
            ch0 = int(
                min(lux * (atime + 1) * 100 * gain / 408 / (1 - 1.64 * self.ir), top)
            )
            ch1 = int(ch0 * self.ir)
            buf[0] = ch0 & 0xFF
            buf[1] = ch0 >> 8
            buf[2] = ch1 & 0xFF
            buf[3] = ch1 >> 8
        else:
            for i in range(len(buf)):
                buf[i] = regs[reg + i]
