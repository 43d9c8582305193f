"""Run the demo: ``python -m scripts.demo [options]`` (see ``--help``)."""

from .cli import main

raise SystemExit(main())
