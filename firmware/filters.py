"""Readings -> one robust value per report.

Several readings are kept per report; the median and the median absolute
deviation reject outliers (a hand over the sensor, a flash), and the mean of
what is left is reported. Storage is allocated once, in ``__init__``.
"""

import array


def valid(value, max_value):
    """Whether ``value`` is a finite number of lux from 0 to ``max_value``."""
    if type(value) is not float and type(value) is not int:
        return False
    # NaN fails both comparisons; infinity fails the upper bound.
    return 0 <= value <= max_value


class MedianFilter:
    """A fixed number of readings, summarised with outliers rejected."""

    def __init__(self, size):
        """Allocate room for ``size`` readings."""
        if size < 1:
            raise ValueError("size must be >= 1")
        self.size = size
        self.count = 0
        self.rejected = 0
        self._values = array.array("f", [0.0] * size)
        self._scratch = array.array("f", [0.0] * size)

    def clear(self):
        """Forget the readings (the storage stays)."""
        self.count = 0
        self.rejected = 0

    def add(self, value):
        """Keep one reading; once full, the oldest is overwritten."""
        self._values[self.count % self.size] = value
        self.count += 1

    def _median_of(self, data, n):
        # Insertion sort in place: n is small and nothing is allocated.
        for i in range(1, n):
            x = data[i]
            j = i - 1
            while j >= 0 and data[j] > x:
                data[j + 1] = data[j]
                j -= 1
            data[j + 1] = x
        mid = n // 2
        if n % 2:
            return data[mid]
        return (data[mid - 1] + data[mid]) / 2

    def value(self):
        """Return the mean of the readings near the median (None without any)."""
        n = min(self.count, self.size)
        if not n:
            return None
        values = self._values
        scratch = self._scratch
        for i in range(n):
            scratch[i] = values[i]
        median = self._median_of(scratch, n)
        for i in range(n):
            scratch[i] = abs(values[i] - median)
        mad = self._median_of(scratch, n)
        # Outliers: further than 3 standard deviations (1.4826 MAD each, for
        # normal noise) from the median. Never within 10 % of the median or
        # 1 lx: with steady light the MAD is ~0 and would reject plain noise.
        limit = max(3.0 * 1.4826 * mad, 0.1 * abs(median), 1.0)
        total = 0.0
        kept = 0
        for i in range(n):
            if abs(values[i] - median) <= limit:
                total += values[i]
                kept += 1
        self.rejected = n - kept
        # kept >= 1: the readings at the median are always within the limit.
        return total / kept
