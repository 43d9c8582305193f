"""Stand-in for MicroPython's ``network``: a WLAN that connects at once.

FAKE_WIFI=down makes it never connect.
"""

import os

STA_IF = 0


class WLAN:
    """A station interface."""

    def __init__(self, interface=STA_IF):
        self.up = False

    def active(self, value=None):
        return True

    def connect(self, ssid=None, password=None):
        self.up = os.getenv("FAKE_WIFI") != "down"

    def isconnected(self):
        return self.up

    def ifconfig(self):
        return ("127.0.0.1", "255.0.0.0", "127.0.0.1", "127.0.0.1")
