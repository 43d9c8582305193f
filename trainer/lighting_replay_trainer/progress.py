"""Progress bars for long work, shown only on a terminal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# Without types-tqdm the import is untyped; with it the ignore is unused.
from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

# tqdm's monitor thread only corrects bars of very slow iterations; without it
# no thread outlives the work (the command is also used as a library).
tqdm.monitor_interval = 0


def progress[T](items: Iterable[T], description: str, unit: str = "it") -> Iterator[T]:
    """Iterate over `items` with a progress bar on stderr when it is a terminal."""
    yield from tqdm(items, desc=description, unit=unit, disable=None, leave=False)
