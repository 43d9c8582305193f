"""Lighting Replay's offline workbench: train, generate, evaluate, plot, play."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lighting-replay")
except PackageNotFoundError:  # run from a source tree without installing
    __version__ = "0.0.0"
