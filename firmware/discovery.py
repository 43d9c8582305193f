"""The lux node's Home Assistant discovery message (MQTT discovery).

Loaded only while announcing (node.py drops it again). The message is never
built as one string: ``config_parts`` returns its pieces, which the MQTT
client writes to the socket one after another, so the board needs no
contiguous block the size of the whole JSON (``config_payload`` joins them,
for tools on a PC).
"""

import json


def config_parts(node, model, version, expire_after=0):
    """Return the discovery JSON for the illuminance sensor of ``node`` in pieces.

    ``node`` has a clean ``node_id`` (see node.py), ``name``
    and the topics ``state_topic``, ``availability_topic``, ``status_topic``.
    Joined, the pieces are one JSON object.
    """
    node_id = node.node_id
    # A sleeping node cannot keep its availability; let the value expire.
    extra = ',"expire_after":%d' % expire_after if expire_after else ""
    return (
        '{"name":"Illuminance","unique_id":"',
        node_id,
        '_lux","state_topic":',
        json.dumps(node.state_topic),
        (
            ',"device_class":"illuminance","unit_of_measurement":"lx",'
            '"state_class":"measurement","suggested_display_precision":1,'
            '"availability_topic":'
        ),
        json.dumps(node.availability_topic),
        (
            ',"payload_available":"online","payload_not_available":"offline",'
            '"json_attributes_topic":'
        ),
        json.dumps(node.status_topic),
        ',"device":{"identifiers":["luxnode_',
        node_id,
        '"],"name":',
        json.dumps(node.name),
        ',"manufacturer":"Lighting Replay","model":',
        json.dumps(model),
        ',"sw_version":"',
        version,
        '"},"origin":{"name":"Lighting Replay lux node","sw_version":"',
        version,
        '"}',
        extra,
        "}",
    )


def config_payload(node, model, version, expire_after=0):
    """Return the discovery JSON of ``config_parts`` as one string."""
    return "".join(config_parts(node, model, version, expire_after))
