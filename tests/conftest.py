"""Fixtures shared by every test folder: project paths and a real Mosquitto."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from pathlib import Path
import sys

import pytest

TESTS = Path(__file__).resolve().parent
# Helper modules next to this file (mqtt_broker, lux_node) import as top level
# whatever import mode pytest uses.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from mqtt_broker import Mosquitto, find_mosquitto  # noqa: E402

PROJECT_ROOT = TESTS.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recordings folder (``<root>/../shared/data``); skip if absent."""
    path = PROJECT_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"real recordings not found at {path}")
    return path


@pytest.fixture
def mosquitto(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Mosquitto]:
    """A running Mosquitto on 127.0.0.1 and a free port, stopped afterwards.

    Use ``.host``/``.port``; ``.stop()`` and ``.start()`` (same port) let
    tests take the broker away and bring it back. Where Home
    Assistant's test plugin blocks sockets, they are enabled for the test
    (connections stay limited to 127.0.0.1).
    """
    # Without pytest-socket installed, sockets are not blocked at all.
    with contextlib.suppress(pytest.FixtureLookupError):
        request.getfixturevalue("socket_enabled")
    binary = find_mosquitto()
    if binary is None:
        pytest.skip(
            "MOSQUITTO NOT INSTALLED: the broker tests need it "
            "(apt-get install mosquitto, done by scripts/setup)"
        )
    broker = Mosquitto(binary, tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
