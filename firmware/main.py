"""Boot entry point of the lux node: settings from config.json, then run."""

import gc
import sys

import config

settings = config.load("config.json")
# Free the loader and its defaults before the node's modules take the RAM.
del config
sys.modules.pop("config", None)
gc.collect()

import node  # noqa: E402

node.main(settings)
