"""Give memory freed by learning back to the operating system.

Learning a room-year makes arrays of a few MB each (half a million minutes)
in executor threads. With glibc's allocator, freeing the first of those
raises its threshold for serving a request from its own mapping to that
size, so the arrays after it come from the heap arenas of the threads that
made them, and freed arena memory is only given back from the top of an
arena. Ten rooms then leave a hundred MB and more resident after learning
although nothing holds it. `release_freed_memory` asks the allocator to give
back every free page of every arena (`malloc_trim`). Other allocators (musl,
jemalloc) return such memory themselves; there it does nothing.

Blocking (it walks the arenas): call it in an executor.
"""

from __future__ import annotations

from collections.abc import Callable
import ctypes
import ctypes.util
import functools
import sys


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """Return glibc's `malloc_trim`, None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim_: Callable[[int], int] = trim
    return trim_


def release_freed_memory() -> bool:
    """Give freed heap memory back to the system; whether it could be asked."""
    if (trim := _malloc_trim()) is None:
        return False
    trim(0)
    return True
