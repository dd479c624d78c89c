"""/destinations, POST /destination, /status and /metrics list the pool."""

import json

from sipredirect.management.ctl import destinations_text
from test_web import call, metrics, place_call, resource_of

TEXT = """[sipredirect]
sip-port = 5999
default-routing-destinations = sip:a@10.0.0.1, sip:b@10.0.0.2
[routing-points]
8001 =
[destination:sip:b@10.0.0.2]
weight = 2
max-cps = 30
[router]
endpoint =
"""


def test_destinations_are_listed_with_state_weight_limit_and_calls(make_node):
    node = make_node(TEXT)
    resource = resource_of(node)
    for _ in range(3):
        assert place_call(node, user="8001") == [302]
    code, body = call(resource, b"GET", b"/destinations")
    assert code == 200
    listed = json.loads(body)
    rows = {d["destination"]: d for d in listed["destinations"]}
    assert (rows["sip:a@10.0.0.1"]["state"], rows["sip:a@10.0.0.1"]["weight"],
            rows["sip:a@10.0.0.1"]["max_cps"]) == ("unknown", 1, None)
    assert (rows["sip:b@10.0.0.2"]["weight"], rows["sip:b@10.0.0.2"]["max_cps"]) == (2, 30)
    assert rows["sip:a@10.0.0.1"]["calls"] + rows["sip:b@10.0.0.2"]["calls"] == 3
    assert listed["all_destinations_down"] == "use-anyway"
    code, body = call(resource, b"GET", b"/status")
    assert [d["destination"] for d in json.loads(body)["destinations"]] == [
        "sip:a@10.0.0.1", "sip:b@10.0.0.2"]
    text = destinations_text(listed)
    assert "sip:b@10.0.0.2" in text and "not probed" in text


def test_the_operator_marks_a_destination_down_for_a_while(make_node):
    node = make_node(TEXT)
    resource = resource_of(node)
    code, body = call(resource, b"POST",
                      b"/destination?uri=sip:a@10.0.0.1&state=down&for=60", command=True)
    assert code == 200 and json.loads(body)["state"] == "down"
    for _ in range(4):
        node.clock.advance(0.1)  # under b's max-cps
        place_call(node, user="8001")
    assert node.policy.pool["sip:a@10.0.0.1"].calls == 0
    assert node.policy.pool["sip:a@10.0.0.1"].skipped_down >= 1
    node.clock.advance(59.6)
    assert node.policy.pool["sip:a@10.0.0.1"].state == "unknown"


def test_marks_refuse_unknown_destinations_and_bad_values(make_node):
    resource = resource_of(make_node(TEXT))
    code, body = call(resource, b"POST", b"/destination?uri=sip:nope@h&state=down",
                      command=True)
    assert code == 404 and "sip:a@10.0.0.1" in json.loads(body)["destinations"]
    code, _ = call(resource, b"POST", b"/destination?uri=sip:a@10.0.0.1&state=dead",
                   command=True)
    assert code == 400
    code, _ = call(resource, b"POST",
                   b"/destination?uri=sip:a@10.0.0.1&state=down&for=inf", command=True)
    assert code == 400
    code, _ = call(resource, b"POST", b"/destination?uri=sip:a@10.0.0.1&state=down")
    assert code != 200  # a command needs the ctl header
    code, _ = call(resource, b"GET", b"/destinations", token=None)
    assert code == 401


def test_metrics_per_destination(make_node):
    node = make_node(TEXT)
    resource = resource_of(node)
    place_call(node, user="8001")
    node.policy.pool.force("sip:a@10.0.0.1", "down", None, "test", 0)
    node.policy.pool.probe_result("sip:b@10.0.0.2", True, 0.003, 1, "200")
    values = metrics(resource)
    a = (("destination", "sip:a@10.0.0.1"),)
    b = (("destination", "sip:b@10.0.0.2"),)
    assert values[("sipredirect_destination_up", a)] == 0
    assert values[("sipredirect_destination_up", b)] == 1
    assert values[("sipredirect_destination_calls_total", b)] == 1
    assert values[("sipredirect_destination_state",
                   (("destination", "sip:a@10.0.0.1"), ("state", "down")))] == 1
    assert values[("sipredirect_destination_probe_latency_seconds", b)] == 0.003
    assert values[("sipredirect_destination_probe_seconds_count", ())] == 1
