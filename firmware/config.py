"""Settings of the lux node: defaults here, the site's values in config.json.

The file only needs the keys that differ from the defaults (at least the WiFi
and broker settings). Unknown keys are reported and ignored; a missing or
broken file leaves the defaults so the node still starts and says why.
"""

import json

DEFAULTS = {
    "wifi_ssid": "",
    "wifi_password": "",
    "wifi_timeout_s": 20,
    "broker_host": "192.168.1.10",
    "broker_port": 1883,
    "username": None,
    "password": None,
    "keepalive_s": 60,
    "socket_timeout_s": 5,
    # Node id: letters, digits, "_" and "-" only; "" = derived from the chip id.
    "node_id": "",
    "name": "Lux node",
    "sensor": "tsl2591",
    # i2c_id null = software I2C on any two pins (works on ESP8266 and ESP32).
    "i2c_id": None,
    "i2c_scl": 5,
    "i2c_sda": 4,
    "i2c_freq": 100000,
    "interval_s": 60,
    "samples": 5,
    "max_lux": 120000,
    "deep_sleep": False,
    "discovery_prefix": "homeassistant",
    "topic_prefix": "luxnode",
    "watchdog": True,
    "backoff_min_s": 1,
    "backoff_max_s": 120,
    # Stop cleanly after this many reports; 0 = run forever.
    "max_cycles": 0,
    # Log heap use after each report.
    "debug": False,
}


def load(path="config.json"):
    """Return the defaults overridden by the JSON object in ``path``."""
    config = dict(DEFAULTS)
    try:
        with open(path) as f:
            site = json.load(f)
    except OSError:
        print("config: no", path, "- using defaults")
        return config
    except ValueError as err:
        print("config: bad JSON in", path, "-", err, "- using defaults")
        return config
    if not isinstance(site, dict):
        print("config:", path, "is not a JSON object - using defaults")
        return config
    for key in site:
        if key not in config:
            print("config: unknown key", key)
        elif _fits(config[key], site[key]):
            config[key] = site[key]
        else:
            print("config: bad value for", key, "- keeping", config[key])
    return config


def _fits(default, value):
    # A value must have the default's type; ints and floats mix freely.
    if default is None:
        return True
    if type(value) is type(default):
        return True
    number = (int, float)
    return type(default) in number and type(value) in number
