"""What /metrics declares, read from the collectors on a task.Clock: every
family has its samples at 0 from start-up (a part that is not configured
included), the router's answer time is the link's own histogram, and the
series list the docs are generated from covers the destinations too."""

from prometheus_client.core import HistogramMetricFamily

from sipredirect.management.metrics import make_registry, series

# Their label values only exist once something happened (an RFC 3263 target
# found, a probe answered); tests/integration/test_grafana_dashboard.py
# keeps the dashboard off them.
EMPTY_UNTIL_SOMETHING_HAPPENS = {"sipredirect_destination_srv_target",
                                 "sipredirect_destination_probe_latency_seconds"}


def families(node):
    return {family.name: family for family in make_registry(node).collect()}


def test_every_family_has_samples_without_http_routing_probing_or_a_router(make_node):
    node = make_node()
    assert node.http_router is None and getattr(node, "prober", None) is None
    found = families(node)
    empty = {name for name, family in found.items() if not family.samples}
    assert empty == EMPTY_UNTIL_SOMETHING_HAPPENS
    for name in ("sipredirect_http_router_seconds", "sipredirect_router_answer_seconds"):
        buckets = [s for s in found[name].samples if s.name == name + "_bucket"]
        assert buckets[-1].labels == {"le": "+Inf"} and all(s.value == 0 for s in buckets)
    probes = {s.labels["event"]: s.value for s in found["sipredirect_probes"].samples
              if s.name == "sipredirect_probes_total"}
    assert probes["sent"] == 0 and probes["timeouts"] == 0
    assert found["sipredirect_probes_in_flight"].samples[0].value == 0


def test_the_router_answer_time_is_the_links_histogram(make_node):
    node = make_node(router_link=True)
    for seconds in (0.004, 0.3, 0.3):
        node.link.offers.answer_latency.observe(seconds)
    family = families(node)["sipredirect_router_answer_seconds"]
    assert isinstance(family, HistogramMetricFamily)
    values = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert values[("sipredirect_router_answer_seconds_bucket", "0.005")] == 1
    assert values[("sipredirect_router_answer_seconds_bucket", "0.25")] == 1
    assert values[("sipredirect_router_answer_seconds_bucket", "0.5")] == 3
    assert values[("sipredirect_router_answer_seconds_bucket", "+Inf")] == 3
    assert values[("sipredirect_router_answer_seconds_count", None)] == 3
    assert abs(values[("sipredirect_router_answer_seconds_sum", None)] - 0.604) < 1e-9


def test_the_docs_series_list_has_the_destination_series_without_their_names(make_node):
    listed = {name: labels for name, _, _, labels in series(make_node())}
    for name in ("sipredirect_router_answer_seconds", "sipredirect_destination_up",
                 "sipredirect_destination_state", "sipredirect_destination_calls_total",
                 "sipredirect_destination_skipped_total",
                 "sipredirect_destination_probe_seconds", "sipredirect_probes_total",
                 "sipredirect_destination_srv_target"):
        assert name in listed, name
    # A destination is this node's configuration, not a value every server has.
    assert listed["sipredirect_destination_up"] == {"destination": []}
    assert listed["sipredirect_destination_skipped_total"] == {
        "destination": [], "reason": ["down", "limit"]}
    assert listed["sipredirect_destination_srv_target"] == {
        "destination": [], "name": [], "priority": []}
