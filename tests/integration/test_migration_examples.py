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


def test_load_balancing_round_robin_over_routing_points(server_factory, tmp_path):
    """Use case 2: load-balancing = yes ignores the username; routing
    points take turns and each one's premise server gets a third."""
    server, router = start_example(server_factory, tmp_path, "migration-load-balancing")
    try:
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=300,
                          rate=100, service="5551234", trace_messages=True)
    finally:
        router.stop()
    assert result.returncode == 0 and result.successful == 300, result.summary()
    assert collections.Counter(redirect_contacts(result)) == {
        "sip:ss1@127.0.0.1:5091": 100, "sip:ss2@127.0.0.1:5092": 100,
        "sip:ss3@127.0.0.1:5093": 100}
    stats = router.stats()["total"]
    assert stats["route_used"] == 300
