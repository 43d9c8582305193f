"""The lux node's Home Assistant discovery message (MQTT discovery)."""

import json

# One template instead of a dict: far less RAM on the board than building
# the nested dict and serialising it.
_TEMPLATE = (
    '{"name":"Illuminance","unique_id":"%s_lux","state_topic":%s,'
    '"device_class":"illuminance","unit_of_measurement":"lx",'
    '"state_class":"measurement","suggested_display_precision":1,'
    '"availability_topic":%s,"payload_available":"online",'
    '"payload_not_available":"offline","json_attributes_topic":%s,'
    '"device":{"identifiers":["luxnode_%s"],"name":%s,'
    '"manufacturer":"Lighting Replay","model":%s,"sw_version":"%s"},'
    '"origin":{"name":"Lighting Replay lux node","sw_version":"%s"}%s}'
)


def config_payload(node, model, version, expire_after=0):
    """Build the discovery JSON for the illuminance sensor of ``node``.

    ``node`` has a clean ``node_id`` (see node.py), ``name``
    and the topics ``state_topic``, ``availability_topic``, ``status_topic``.
    """
    # A sleeping node cannot keep its availability; let the value expire.
    extra = ',"expire_after":%d' % expire_after if expire_after else ""
    return _TEMPLATE % (
        node.node_id,
        json.dumps(node.state_topic),
        json.dumps(node.availability_topic),
        json.dumps(node.status_topic),
        node.node_id,
        json.dumps(node.name),
        json.dumps(model),
        version,
        version,
        extra,
    )
