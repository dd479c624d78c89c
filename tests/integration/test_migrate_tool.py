"""sipredirect-migrate end to end: the sample Network SIP Server export and
DN list are converted, twistd starts on the result, and SIPp calls get the
302 a router's plain DNs resolve to through what the tool wrote (an
access code and trunk, and a Use Override turned into a DN contact)."""

import collections

from harness import REPO, RouterProcess, redirect_contacts, run_sipp

from sipredirect.migrate.cli import main

DATA = REPO / "tests" / "data" / "migrate"

# The URS strategy of the sample: routing point 8001 sends calls to the
# External Routing Point 9001 of switch premise1 (ISCC: Location), 8002 to
# DN 9002, whose Use Override was its full URI.
RULES = """
[router]
name = urs-migrated

[rule premise1]
dn = 8001
route = 9001
location = premise1

[rule override]
dn = 8002
route = 9002
"""


def test_converted_sample_starts_and_redirects(server_factory, tmp_path, capsys):
    ini = tmp_path / "migrated.ini"
    status = main([str(DATA / "nss-app.cfg"), "--dns", str(DATA / "nss-dns.csv"),
                   "--access-code", "premise1=ERP1", "-o", str(ini)])
    assert status == 0, capsys.readouterr().err
    server = server_factory(config_text=ini.read_text())
    router = RouterProcess(tmp_path / "router", ["tcp:127.0.0.1:%d" % server.router_port],
                           RULES, name="urs-migrated", dns=["8001", "8002"]).start()
    try:
        # load-balancing = true in the export: the routing points take turns.
        result = run_sipp(tmp_path / "sipp", "uac_redirect.xml", server.port, calls=20,
                          rate=50, service="5551234", trace_messages=True)
    finally:
        router.stop()
    assert result.returncode == 0 and result.successful == 20, result.summary()
    assert collections.Counter(redirect_contacts(result)) == {
        "sip:9001@127.0.0.1:5081": 10, "sip:9002@127.0.0.1:5082": 10}
    stats = router.stats()["total"]
    assert stats["route_used"] == 20 and stats.get("errors", 0) == 0
