"""Light sensor drivers. Each takes its I2C bus and offers ``read_lux()``."""


def open_sensor(kind, i2c):
    """Return the driver for ``kind`` ("tsl2591" or "bh1750") on ``i2c``.

    Raises ``OSError`` when the chip does not answer and ``ValueError`` for an
    unknown kind.
    """
    if kind == "tsl2591":
        from drivers.tsl2591 import TSL2591

        return TSL2591(i2c)
    if kind == "bh1750":
        from drivers.bh1750 import BH1750

        return BH1750(i2c)
    raise ValueError("unknown sensor " + str(kind))
