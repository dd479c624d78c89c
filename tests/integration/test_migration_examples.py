"""The two migration use cases of the seed, end to end: each example
configuration of etc/ with the reference router and SIPp."""

import collections
import re


from harness import REPO, RouterProcess, redirect_contacts, run_sipp


def start_example(server_factory, tmp_path, name):
    server = server_factory(config_text=(REPO / "etc" / (name + ".ini")).read_text())
    rules = (REPO / "etc" / (name + "-rules.ini")).read_text()
    dns = re.search(r"^dns = (.*)$", rules, re.M).group(1).replace(" ", "").split(",")
    router = RouterProcess(tmp_path / "router", ["tcp:127.0.0.1:%d" % server.router_port],
                           rules, name="urs-" + name, dns=dns).start()
    return server, router


def test_iscc_access_codes_and_trunks(server_factory, tmp_path):
    """Use case 1: URS answers OtherDN = 9001 with Location = premise1; the
    access code ERP1 selects the premise trunk and is stripped."""
    server, router = start_example(server_factory, tmp_path, "migration-iscc")
    try:
        one = run_sipp(tmp_path / "sipp1", "uac_redirect.xml", server.port, calls=200,
                       rate=100, service="8001", trace_messages=True)
        two = run_sipp(tmp_path / "sipp2", "uac_redirect.xml", server.port, calls=100,
                       rate=100, service="8002", trace_messages=True)
        unknown = run_sipp(tmp_path / "sipp3", "uac_redirect.xml", server.port, calls=1,
                           rate=10, service="5551234", extra=["-recv_timeout", "2000"])
    finally:
        router.stop()
    assert one.returncode == 0 and one.successful == 200, one.summary()
    assert two.returncode == 0 and two.successful == 100, two.summary()
    assert set(redirect_contacts(one)) == {"sip:9001@127.0.0.1:5081"}
    assert set(redirect_contacts(two)) == {"sip:9002@127.0.0.1:5082"}
    assert unknown.successful == 0  # load balancing off: no routing point, 404
    stats = router.stats()["total"]
    assert stats["route_used"] == 300 and stats["errors"] == 0


def test_load_balancing_fast_strategy_hops_to_additional_routing_points(server_factory,
                                                                       tmp_path):
    """Use case 2 the SIP Server way: every call reaches the default routing
    point 7000, whose router (the fast strategy) answers OtherDN 7001, 7002
    or 7003 in turn; the call is offered there (same ConnID), and the 302
    SIPp gets is the one the second routing point's router chose: each
    premise server gets a third."""
    server = server_factory(config_text=(REPO / "etc" / "migration-load-balancing.ini")
                            .read_text())
    rules = (REPO / "etc" / "migration-load-balancing-rules.ini").read_text()
    endpoint = ["tcp:127.0.0.1:%d" % server.router_port]
    fast = RouterProcess(tmp_path / "fast", endpoint, rules, name="urs-fast",
                         dns=["7000"]).start()
    premise = RouterProcess(tmp_path / "premise", endpoint, rules, name="urs-premise",
                            dns=["7001", "7002", "7003"]).start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=300,
                          rate=100, service="5551234", trace_messages=True)
        metrics = server.metrics()
    finally:
        fast.stop()
        premise.stop()
    assert result.returncode == 0 and result.successful == 300, result.summary()
    assert collections.Counter(redirect_contacts(result)) == {
        "sip:ss1@127.0.0.1:5091": 100, "sip:ss2@127.0.0.1:5092": 100,
        "sip:ss3@127.0.0.1:5093": 100}
    assert metrics[("sipredirect_router_route_point_hops_total", ())] == 300
    fast_stats, premise_stats = fast.stats(), premise.stats()
    assert fast_stats["total"]["route_requests"] == 300
    assert fast_stats["total"]["route_calls_by_rule"] == {"fast": 300}
    assert fast_stats["total"].get("errors", 0) == 0
    # The second routing point's router decided every call and heard it used.
    assert premise_stats["total"]["route_requests"] == 300
    assert premise_stats["total"]["route_calls_by_rule"] == {"rp1": 100, "rp2": 100, "rp3": 100}
    assert premise_stats["total"]["route_used"] == 300


def test_load_balancing_skips_routing_points_without_a_router(server_factory, tmp_path):
    """Use case 2 the NSS way (load-balancing = yes, seed row 3): with
    routers on 7001 and 7002 of three routing points, every call is
    offered to a router (none falls straight to the default destinations)
    and the two take equal turns."""
    text = (REPO / "etc" / "migration-load-balancing.ini").read_text()
    text = text.replace("load-balancing = no\ndefault-route-point = 7000\n",
                        "load-balancing = yes\n").replace("7000 =\n", "")
    assert "load-balancing = yes" in text and "7000 =" not in text
    server = server_factory(config_text=text)
    rules = (REPO / "etc" / "migration-load-balancing-rules.ini").read_text()
    router = RouterProcess(tmp_path / "router", ["tcp:127.0.0.1:%d" % server.router_port],
                           rules, name="urs-lb", dns=["7001", "7002"]).start()
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=200,
                          rate=100, service="5551234", trace_messages=True)
    finally:
        router.stop()
    assert result.returncode == 0 and result.successful == 200, result.summary()
    assert collections.Counter(redirect_contacts(result)) == {
        "sip:ss1@127.0.0.1:5091": 100, "sip:ss2@127.0.0.1:5092": 100}
    stats = router.stats()
    assert stats["total"]["route_requests"] == 200
    assert stats["total"]["route_used_by_source"] == {"router": 200}
