"""Run the command as `python -m lighting_replay_trainer`."""

import sys

from .cli import main

sys.exit(main())
