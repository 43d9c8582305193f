"""The ESPHome lux node (firmware/esphome) passes ESPHome's own validator.

``esphome config`` loads the YAML with its packages and secrets and checks
every component against ESPHome's schemas; it needs no compiler. Compiling
downloads toolchains from outside the package registries, so nothing here
compiles. Every variant (board x sensor x transport) is validated, and what
ESPHome resolved is compared with the MicroPython node's defaults.
"""

from __future__ import annotations

import ast
import base64
import itertools
import os
from pathlib import Path
import re
import shutil
import subprocess
from typing import Any

from lux_node import FIRMWARE, require_tool
import pytest
import yaml

ESPHOME = FIRMWARE / "esphome"
NODE = "lux-node.yaml"
# Package folder for each substitution that picks a variant.
CHOICES = {"board": "boards", "sensor": "sensors", "transport": "transport"}
DEFAULT_VARIANT = {"board": "esp8266", "sensor": "tsl2591", "transport": "api"}
# The ESP32 wiring of firmware/README.md (the MicroPython defaults are the
# ESP8266's).
ESP32_PINS = {"scl": 22, "sda": 21}
# Any address that refuses connections: a download attempt fails at once.
NO_NETWORK = "http://127.0.0.1:9"


def _options(substitution: str) -> list[str]:
    return sorted(p.stem for p in (ESPHOME / CHOICES[substitution]).glob("*.yaml"))


VARIANTS = [
    dict(zip(CHOICES, combo, strict=True))
    for combo in itertools.product(*(_options(s) for s in CHOICES))
]


def _micropython_defaults() -> dict[str, Any]:
    """firmware/config.py's DEFAULTS, read without running MicroPython code."""
    tree = ast.parse((FIRMWARE / "config.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "DEFAULTS":
            defaults: dict[str, Any] = ast.literal_eval(node.value)
            return defaults
    raise AssertionError("no DEFAULTS in firmware/config.py")


class _SecretLoader(yaml.SafeLoader):
    """Reads ``esphome config`` output, which prints secrets as ``!secret`` tags."""


_SecretLoader.add_constructor(
    "!secret", lambda loader, node: f"!secret {loader.construct_scalar(node)}"
)


def _seconds(period: str) -> float:
    """ESPHome's printed time period ("12s", "1min", "500ms") in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|min|h)", period)
    assert match, f"unexpected time period {period!r}"
    scale = {"ms": 0.001, "s": 1, "min": 60, "h": 3600}[match.group(2)]
    return float(match.group(1)) * scale


@pytest.fixture
def node_dir(tmp_path: Path) -> Path:
    """A copy of firmware/esphome with a secrets.yaml of test values.

    A copy, so a local secrets.yaml or build folder never takes part and the
    files under test can be broken on purpose.
    """
    work = tmp_path / "esphome"
    shutil.copytree(ESPHOME, work, ignore=shutil.ignore_patterns("secrets.yaml", ".*"))
    secrets = {
        "wifi_ssid": "test-network",
        "wifi_password": "test-wifi-password",
        # ESPHome checks the key's form: 32 bytes in base64.
        "encryption_key": base64.b64encode(bytes(range(32))).decode(),
        "mqtt_broker": "192.0.2.10",
        "mqtt_username": "luxnode",
        "mqtt_password": "test-mqtt-password",
    }
    (work / "secrets.yaml").write_text(yaml.safe_dump(secrets), encoding="utf-8")
    return work


def esphome_config(
    node_dir: Path, variant: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``esphome config`` on lux-node.yaml in ``node_dir``, offline."""
    command = [require_tool("esphome")]
    for key, value in (variant or {}).items():
        command += ["-s", key, value]
    command += ["config", NODE]
    env = {k: v for k, v in os.environ.items() if k.lower() != "no_proxy"}
    for proxy in ("http_proxy", "https_proxy", "all_proxy"):
        env[proxy] = env[proxy.upper()] = NO_NETWORK
    return subprocess.run(
        command,
        cwd=node_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def validated(node_dir: Path, variant: dict[str, str] | None = None) -> dict[str, Any]:
    """The configuration ESPHome resolved; fails the test if it is invalid."""
    result = esphome_config(node_dir, variant)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "Configuration is valid!" in result.stderr
    config: dict[str, Any] = yaml.load(result.stdout, Loader=_SecretLoader)  # noqa: S506
    return config


def test_every_variant_is_covered() -> None:
    """The variants below are the package files there are, and the README's."""
    assert {name: _options(name) for name in CHOICES} == {
        "board": ["esp32", "esp8266"],
        "sensor": ["bh1750", "tsl2591"],
        "transport": ["api", "mqtt"],
    }
    assert len(VARIANTS) == 8


@pytest.mark.parametrize(
    "variant", VARIANTS, ids=["-".join(v.values()) for v in VARIANTS]
)
def test_variant_is_valid_and_behaves_like_the_micropython_node(
    node_dir: Path, variant: dict[str, str]
) -> None:
    config = validated(node_dir, variant)
    defaults = _micropython_defaults()

    board = variant["board"]
    other_board = "esp32" if board == "esp8266" else "esp8266"
    assert board in config
    assert other_board not in config
    if board == "esp8266":
        assert config["esp8266"]["board"] == "d1_mini"
        pins = {"scl": defaults["i2c_scl"], "sda": defaults["i2c_sda"]}
    else:
        assert config["esp32"]["board"] == "esp32dev"
        pins = ESP32_PINS
    (bus,) = config["i2c"]
    assert {"scl": bus["scl"], "sda": bus["sda"]} == pins
    assert bus["frequency"] == defaults["i2c_freq"]

    sensors = {s["platform"]: s for s in config["sensor"]}
    assert set(sensors) == {variant["sensor"], "copy"}
    raw = sensors[variant["sensor"]]
    if variant["sensor"] == "tsl2591":
        assert raw["gain"] == "AUTO"
        raw_lux = raw["calculated_lux"]  # one of the chip's several sensors
    else:
        raw_lux = raw
    lux = sensors["copy"]
    assert lux["source_id"] == raw_lux["id"]
    assert raw_lux["internal"] is True  # Home Assistant sees the filtered value only
    assert lux["name"] == "Illuminance"
    assert lux["device_class"] == "illuminance"
    assert lux["unit_of_measurement"] == "lx"
    assert lux["state_class"] == "measurement"
    assert [next(iter(f)) for f in lux["filters"]] == ["clamp", "median"]
    clamp, median = (next(iter(f.values())) for f in lux["filters"])
    assert clamp == {
        "min_value": 0,
        "max_value": defaults["max_lux"],
        "ignore_out_of_range": True,
    }
    # One report per interval_s, the median of `samples` readings spread over it.
    assert median["window_size"] == median["send_every"] == defaults["samples"]
    assert _seconds(raw["update_interval"]) * median["send_every"] == pytest.approx(
        defaults["interval_s"]
    )

    if variant["transport"] == "api":
        assert "mqtt" not in config
        assert config["api"]["encryption"]["key"] == "!secret encryption_key"
    else:
        assert "api" not in config
        assert config["mqtt"]["discovery"] is True
        assert config["mqtt"]["discovery_prefix"] == defaults["discovery_prefix"]
        assert config["mqtt"]["broker"] == "!secret mqtt_broker"
    assert config["wifi"]["networks"][0]["ssid"] == "!secret wifi_ssid"


def test_defaults_match_the_micropython_node(node_dir: Path) -> None:
    """Without substitutions on the command line: a D1 mini with a TSL2591 on the API."""
    config = validated(node_dir)
    defaults = _micropython_defaults()
    assert {k: config["substitutions"][k] for k in CHOICES} == DEFAULT_VARIANT
    assert DEFAULT_VARIANT["sensor"] == defaults["sensor"]
    assert config["esphome"]["friendly_name"] == defaults["name"]


def _edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of ``old``: a break that misses fails loudly."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path.name} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


# (file to change, text, replacement, what the validator must say)
BREAKS = {
    "yaml-syntax": (NODE, "filters:", "filters: [", "lux-node.yaml"),
    "schema": (NODE, "window_size: 5", "window_size: 0", "window_size"),
    "sensor-option": ("sensors/tsl2591.yaml", "gain: auto", "gain: loud", "gain"),
    "missing-secret": ("secrets.yaml", "wifi_password:", "wifi_pass:", "wifi_password"),
    "missing-variant": (NODE, "board: esp8266 ", "board: esp8285 ", "esp8285"),
}


@pytest.mark.parametrize("name", BREAKS)
def test_broken_configuration_fails(node_dir: Path, name: str) -> None:
    """A broken copy is rejected: the validation above can fail."""
    file, old, new, reported = BREAKS[name]
    _edit(node_dir / file, old, new)
    result = esphome_config(node_dir)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Configuration is valid!" not in output
    assert reported in output
