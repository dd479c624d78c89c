"""Mapping Genesys options and DNs to sipredirect's: each mapped value
with its origin, and every other line reported with a reason."""

import pytest

from sipredirect.migrate.convert import convert
from sipredirect.migrate.reader import parse_dn_list, parse_export
from sipredirect.migrate.result import CHECK, IGNORED, NOT_MAPPED, DnSection
from sipredirect.migrate.values import duration_seconds
from sipredirect.schema.genesys import IGNORED_GENESYS_OPTIONS


def migrate(export, dns=None, **kwargs):
    options = parse_export(export, "app.cfg")
    rows = parse_dn_list(dns, "dns.csv") if dns else ()
    return convert(options, rows, **kwargs)


def settings(migration):
    return {(s.section, s.option): s.value for s in migration.settings}


def reasons(migration):
    """(line, kind) -> the reasons given for it, joined by " | "."""
    found = {}
    for item in migration.unmapped:
        key = (item.origin.line, item.kind)
        found[key] = found[key] + " | " + item.reason if key in found else item.reason
    return found


@pytest.mark.parametrize("text, unit, expected", [
    ("500", 0.001, 0.5), ("10", 1, 10), ("10 sec", 0.001, 10), ("250 msec", 1, 0.25),
    ("2 min", 1, 120), ("01:30", 1, 90), ("1:00:05", 1, 3605), ("1.5", 1, 1.5)])
def test_genesys_timeout_formats(text, unit, expected):
    assert duration_seconds(text, unit) == expected


def test_nss_options_are_mapped_with_their_units_and_booleans():
    migration = migrate("[TServer]\nsip-port=5070\nrouter-timeout=500 msec\n"
                        "t1-timeout=1 sec\nresolve-sip-address=true\nfinal-timeout=01:00\n"
                        "default-routing-destinations=a@10.0.0.1,sip:b@10.0.0.2:5062\n"
                        "num-of-rerouting=2\ndefault-route-point=8000\n")
    assert settings(migration) == {
        ("sipredirect", "sip-port"): "5070", ("sipredirect", "router-timeout"): "0.5",
        ("sipredirect", "t1-timeout"): "1000", ("sipredirect", "resolve-sip-address"): "yes",
        ("sipredirect", "final-timeout"): "60",
        ("sipredirect", "default-routing-destinations"): "sip:a@10.0.0.1, sip:b@10.0.0.2:5062",
        ("sipredirect", "num-of-rerouting"): "2",
        ("sipredirect", "default-route-point"): "8000",
        ("sipredirect", "attribute-mapping"): "nss",
        ("router", "endpoint"): "tcp:3000:interface=127.0.0.1"}
    port = [s for s in migration.settings if s.option == "sip-port"][0]
    assert str(port.origin) == "app.cfg, line 2: [TServer] sip-port=5070"
    # default-route-point must be a routing point: it is added as one.
    assert [rp.option for rp in migration.routing_points] == ["8000"]
    assert migration.unmapped == ()


def test_ignored_genesys_options_take_their_reason_from_the_schema_table():
    migration = migrate("[TServer]\nsip-link-type=0\nringing-on-route-point=false\n")
    assert reasons(migration) == {
        (2, IGNORED): IGNORED_GENESYS_OPTIONS["sip-link-type"],
        (3, IGNORED): IGNORED_GENESYS_OPTIONS["ringing-on-route-point"]}
    assert ("sipredirect", "sip-link-type") not in settings(migration)


def test_bad_values_unknown_options_and_other_sections_are_reported():
    migration = migrate("[TServer]\nsip-port=99999\nt2-timeout=soon\nsip-prot=5060\n"
                        "enable-sip-port-on-backup=true\nshutdown-sip-reject-code=503\n"
                        "[log]\nverbose=all\n")
    found = reasons(migration)
    assert found[(2, NOT_MAPPED)] == "must be at most 65535: the default applies (sip-port = 5060)"
    assert "not a timeout" in found[(3, NOT_MAPPED)]
    assert "no sipredirect counterpart" in found[(4, NOT_MAPPED)]
    assert "[ha]" in found[(5, NOT_MAPPED)]
    assert "drain-answer" in found[(6, NOT_MAPPED)]
    assert "twistd" in found[(8, IGNORED)]
    assert [(s.option, s.value) for s in migration.ha] == [("enable-sip-port-on-backup", "yes")]
    assert ("sipredirect", "sip-port") not in settings(migration)


def test_extensions_for_nss_and_invite_for_sipserver():
    export = "[TServer]\nsip-port=5060\n[Extensions]\nFrom:tag=\nVia.host=GatewayHost\n" \
             "From.colour=x\n[INVITE]\nuserdata.Gw=Via.host\n"
    nss = migrate(export)
    assert nss.attribute_mapping == "nss"
    assert [(s.section, s.option, s.value) for s in nss.extensions] == [
        ("extensions", "From:tag", ""), ("extensions", "Via.host", "GatewayHost")]
    assert "not an INVITE element" in reasons(nss)[(6, NOT_MAPPED)]
    assert "attribute-mapping = sipserver" in reasons(nss)[(8, NOT_MAPPED)]
    sipserver = migrate(export, attribute_mapping="sipserver")
    assert [(s.section, s.option, s.value) for s in sipserver.extensions] == [
        ("invite", "userdata.Gw", "Via.host")]
    only_invite = migrate("[TServer]\nsip-port=1\n[INVITE]\nextensions.F=From\n")
    assert only_invite.attribute_mapping == "sipserver"


DNS = """number,type,options,use-override
8001,Routing Point,,
8002,Routing Point,,
gw,Trunk,contact=10.0.0.1;prefix=GW-;oosp-transfer-enabled=true,
premise1,Trunk,contact=10.10.1.5:5060;prefix=ERP1;replace-prefix=;oosp-transfer-enabled=true,
9001,Extension,,sip:9001@10.10.1.5:5060
9002,Extension,contact=10.10.2.5;prefix=9,
7100,ACD Queue,,
7200,Voice Treatment Port,contact=*,
7300,Extension,,ERP-7300
"""


def test_dns_become_routing_points_trunks_and_dns():
    migration = migrate("[TServer]\nload-balancing=true\n", DNS,
                        access_codes=[("premise1", "ERP1"), ("premise2", "ERP2")])
    assert [rp.option for rp in migration.routing_points] == ["8001", "8002"]
    assert [(dn.name, dn.options) for dn in migration.dns] == [
        ("gw", (("type", "trunk"), ("contact", "10.0.0.1"), ("prefix", "GW-"),
                ("oosp-transfer-enabled", "true"))),
        ("premise1", (("type", "trunk"), ("contact", "10.10.1.5:5060"), ("prefix", "ERP1"),
                      ("replace-prefix", ""), ("oosp-transfer-enabled", "true"))),
        ("9001", (("contact", "sip:9001@10.10.1.5:5060"),)),
        ("9002", (("contact", "10.10.2.5"),))]
    assert migration.dns[2].note == "contact from its Use Override"
    assert [(s.option, s.value) for s in migration.access_codes] == [
        ("premise1", "ERP1"), ("premise2", "ERP2")]
    found = reasons(migration)
    assert "for trunks only" in found[(7, NOT_MAPPED)]
    assert "no contact" in found[(8, NOT_MAPPED)]
    assert "registrar" in found[(9, NOT_MAPPED)]
    assert "a name URS sent in OtherDN" in found[(10, NOT_MAPPED)]
    code = [u for u in migration.unmapped if u.kind == CHECK]
    assert [str(u.origin) for u in code] == ["command line: --access-code premise2=ERP2"]
    assert ("sipredirect", "load-balancing") in settings(migration)


def test_load_balancing_without_routing_points_is_not_written():
    migration = migrate("[TServer]\nload-balancing=true\ndefault-route-point=8000\n")
    assert ("sipredirect", "load-balancing") not in settings(migration)
    assert "--dns" in reasons(migration)[(2, NOT_MAPPED)]


def test_default_route_point_is_dropped_under_load_balancing():
    migration = migrate("[TServer]\nload-balancing=true\ndefault-route-point=8001\n", DNS)
    assert ("sipredirect", "default-route-point") not in settings(migration)
    assert "never used with load-balancing" in reasons(migration)[(3, NOT_MAPPED)]
    assert isinstance(migration.dns[0], DnSection)
