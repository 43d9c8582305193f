"""MQTT topics of the lux node and its Home Assistant discovery message."""

import json

ONLINE = "online"
OFFLINE = "offline"


def clean_node_id(node_id):
    """``node_id`` with every character Home Assistant refuses replaced by _."""
    out = ""
    for ch in node_id:
        ok = "a" <= ch <= "z" or "A" <= ch <= "Z" or "0" <= ch <= "9"
        out += ch if ok or ch in "_-" else "_"
    return out or "luxnode"


class Topics:
    """Every topic the node uses, built once."""

    def __init__(
        self, node_id, topic_prefix="luxnode", discovery_prefix="homeassistant"
    ):
        """Topics under ``<topic_prefix>/<node_id>`` and the discovery ones."""
        base = topic_prefix + "/" + node_id
        self.availability = base + "/availability"
        self.state = base + "/lux"
        self.status = base + "/status"
        self.config = discovery_prefix + "/sensor/" + node_id + "/lux/config"
        # Home Assistant publishes "online" here when it (re)starts.
        self.birth = discovery_prefix + "/status"


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


def config_payload(node_id, name, topics, model, version, expire_after=0):
    """Build the discovery JSON for the illuminance sensor of node ``node_id``.

    ``node_id`` must already be clean (see ``clean_node_id``).
    """
    # A sleeping node cannot keep its availability; let the value expire.
    extra = ',"expire_after":%d' % expire_after if expire_after else ""
    return _TEMPLATE % (
        node_id,
        json.dumps(topics.state),
        json.dumps(topics.availability),
        json.dumps(topics.status),
        node_id,
        json.dumps(name),
        json.dumps(model),
        version,
        version,
        extra,
    )
