"""A small MQTT 3.1.1 client for the lux node.

Blocking with timeouts: every socket operation is bounded by ``timeout`` seconds,
and ``check_msg()`` polls for packets from the broker without blocking longer
than asked. Only what the node needs: CONNECT (will, credentials, keepalive),
PUBLISH QoS 0/1 with retain, SUBSCRIBE, PINGREQ/PINGRESP, incoming PUBLISH and
DISCONNECT. Every failure is an ``OSError`` so the caller has one thing to
catch before it reconnects. Kept compact: on an ESP8266 each function costs RAM.
"""

import select
import socket
import struct
import time

from micropython import const

# Fixed-header packet types (upper nibble of the first byte). Private consts
# cost no RAM on the board: the compiler inlines them.
_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)  # the reserved flag bits of SUBSCRIBE must be 0b0010
_SUBACK = const(0x90)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)

_ETIMEDOUT = const(110)
_ECONNRESET = const(104)
# Failed connects in a row after which the broker's address is looked up anew.
_RELOOKUP_AFTER = const(10)


def _size(data):
    # Byte length of str or bytes without an encoded copy (UTF-8 in RAM).
    return len(memoryview(data))


class MQTTClient:
    """An MQTT 3.1.1 client over one TCP socket."""

    def __init__(
        self,
        client_id,
        server,
        port=1883,
        user=None,
        password=None,
        keepalive=60,
        timeout=5,
        will=None,
    ):
        """Remember the connection settings; nothing is sent yet.

        ``will`` = (topic, payload, retain, qos): what the broker publishes
        for us if we vanish without DISCONNECT.
        """
        self.client_id = client_id
        self.server = server
        self.port = port
        self.user = user
        self.password = password
        self.keepalive = keepalive
        self.timeout = timeout
        self.sock = None
        self.poller = None
        # Called as callback(topic, payload), both bytes, for each message.
        self.callback = None
        self.will = will
        self.pid = 0
        # The broker's address, looked up once: a blocking DNS lookup on
        # every reconnect could outlast the watchdog during an outage. It is
        # looked up again only after RELOOKUP_AFTER failed connects in a row
        # (the broker may have moved).
        self.addr = None
        self.failed_connects = 0
        self.acked = 0
        self.last_tx = 0
        self.ping_sent = 0
        # Fixed header scratch: type byte + up to 4 length bytes.
        self.hdr = bytearray(5)

    def _send(self, first_byte, remaining, *parts):
        # Fixed header with the variable-length "remaining length", then parts.
        sock = self.sock
        if sock is None:
            raise OSError(_ECONNRESET)
        hdr = self.hdr
        hdr[0] = first_byte
        i = 1
        while True:
            hdr[i] = remaining & 0x7F | (0x80 if remaining > 0x7F else 0)
            remaining >>= 7
            i += 1
            if not remaining:
                break
        sock.write(memoryview(hdr)[:i])
        for part in parts:
            if isinstance(part, tuple):
                # A length-prefixed string (a tuple holding it).
                sock.write(struct.pack("!H", _size(part[0])))
                sock.write(part[0])
            elif part is not None:
                sock.write(part)
        self.last_tx = time.ticks_ms()

    def _read(self, n):
        if not n:
            return b""
        data = self.sock.read(n)
        if not data or len(data) != n:
            raise OSError(_ECONNRESET)
        return data

    def connect(self, clean_session=True):
        """Open the socket and send CONNECT; return the session-present flag."""
        self.close()
        if self.addr is None or self.failed_connects >= _RELOOKUP_AFTER:
            self.addr = socket.getaddrinfo(self.server, self.port)[0][-1]
            self.failed_connects = 0
        self.sock = socket.socket()
        try:
            self.sock.settimeout(self.timeout)
            try:
                self.sock.connect(self.addr)
            except OSError:
                self.failed_connects += 1
                raise
            self.failed_connects = 0
            flags = 0x02 if clean_session else 0
            remaining = 12 + _size(self.client_id)
            will = self.will
            topic = message = user = password = None
            if will:
                flags |= 0x04 | (will[3] & 3) << 3 | (0x20 if will[2] else 0)
                remaining += 4 + _size(will[0]) + _size(will[1])
                topic = (will[0],)
                message = (will[1],)
            if self.user is not None:
                flags |= 0x80
                remaining += 2 + _size(self.user)
                user = (self.user,)
                if self.password is not None:
                    flags |= 0x40
                    remaining += 2 + _size(self.password)
                    password = (self.password,)
            # Protocol name "MQTT", level 4 (3.1.1), flags, keepalive.
            self._send(
                _CONNECT,
                remaining,
                b"\x00\x04MQTT\x04",
                struct.pack("!BH", flags, self.keepalive),
                (self.client_id,),
                topic,
                message,
                user,
                password,
            )
            ack = self._read(4)
            if ack[0] != _CONNACK or ack[1] != 2:
                raise OSError("no CONNACK")  # noqa: TRY301 - close below
            if ack[3]:
                # 4: bad user name or password, 5: not authorized.
                raise OSError("refused, code %d" % ack[3])  # noqa: TRY301
        except OSError:
            self.close()
            raise
        self.poller = select.poll()
        self.poller.register(self.sock, select.POLLIN)
        self.ping_sent = 0
        return ack[2] & 1

    def disconnect(self):
        """Send DISCONNECT (the will is discarded) and close the socket."""
        try:  # noqa: SIM105 - MicroPython has no contextlib.suppress
            self._send(_DISCONNECT, 0)
        except OSError:
            pass
        self.close()

    def close(self):
        """Close the socket without telling the broker (the will fires)."""
        if self.sock is not None:
            try:  # noqa: SIM105 - MicroPython has no contextlib.suppress
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.poller = None

    def publish(self, topic, payload, retain=False, qos=0):
        """Publish; with QoS 1 wait for the broker's PUBACK.

        ``payload`` is str, bytes or a tuple/list of them: the pieces of one
        message, written one after another (no joined copy in RAM).
        """
        pid = None
        if qos:
            self.pid = self.pid % 65535 + 1
            pid = struct.pack("!H", self.pid)
        pieces = isinstance(payload, (tuple, list))
        size = 2 + _size(topic) + (2 if qos else 0)
        if pieces:
            for part in payload:
                size += _size(part)
        else:
            size += _size(payload)
        # Header, topic and packet id, then the payload straight to the socket.
        self._send(
            _PUBLISH | (qos & 3) << 1 | (1 if retain else 0),
            size,
            (topic,),
            pid,
            None if pieces else payload,
        )
        if pieces:
            for part in payload:
                self.sock.write(part)
        if qos:
            self._wait_ack()

    def subscribe(self, topic, qos=0):
        """Subscribe to one topic filter and wait for SUBACK."""
        self.pid = self.pid % 65535 + 1
        self._send(
            _SUBSCRIBE,
            5 + _size(topic),
            struct.pack("!H", self.pid),
            (topic,),
            bytes((qos,)),
        )
        self._wait_ack()

    def _wait_ack(self):
        deadline = time.ticks_add(time.ticks_ms(), int(self.timeout * 1000))
        while self.acked != self.pid:
            left = time.ticks_diff(deadline, time.ticks_ms())
            if left <= 0:
                raise OSError(_ETIMEDOUT)
            self._wait_packet(left)

    def check_msg(self, timeout_ms=0):
        """Handle what the broker sent, waiting at most ``timeout_ms``.

        Keeps the connection alive too: sends PINGREQ when we have been quiet
        for half the keepalive, and raises ``OSError`` when the broker has not
        answered a ping within the keepalive.
        """
        if self.sock is None:
            raise OSError(_ECONNRESET)
        now = time.ticks_ms()
        keepalive_ms = self.keepalive * 1000
        if keepalive_ms:
            if self.ping_sent:
                if time.ticks_diff(now, self.ping_sent) > keepalive_ms:
                    raise OSError(_ETIMEDOUT)
            elif time.ticks_diff(now, self.last_tx) >= keepalive_ms // 2:
                self._send(_PINGREQ, 0)
                self.ping_sent = now
        deadline = time.ticks_add(now, timeout_ms)
        # Past the deadline, keep draining what is already queued.
        while self._wait_packet(max(0, time.ticks_diff(deadline, time.ticks_ms()))):
            pass

    def _wait_packet(self, timeout_ms):
        # Read and handle one packet; False when none came in time.
        ready = self.poller.poll(timeout_ms)
        if not ready:
            return False
        if ready[0][1] & (select.POLLHUP | select.POLLERR):
            raise OSError(_ECONNRESET)
        first = self._read(1)[0]
        length = 0
        shift = 0
        while True:
            byte = self._read(1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift > 21:
                raise OSError("bad length")
        body = self._read(length)
        kind = first & 0xF0
        if kind == _PUBLISH:
            n = body[0] << 8 | body[1]
            topic = body[2 : 2 + n]
            n += 2
            if first & 0x06:
                # QoS 1 (2 is never subscribed to): acknowledge it.
                self._send(_PUBACK, 2, body[n : n + 2])
                n += 2
            if self.callback is not None:
                self.callback(topic, body[n:])
        elif kind in (_PUBACK, _SUBACK):
            if kind == _SUBACK and body[2] == 0x80:
                raise OSError("subscription refused")
            self.acked = body[0] << 8 | body[1]
        elif kind == _PINGRESP:
            self.ping_sent = 0
        return True
