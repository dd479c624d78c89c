"""Configuration: every kind of error names file, section, option, value."""

import pytest

from sipredirect.config import (SCHEMA, ConfigError, load_config, parse_config,
                                parse_destinations, reference_rst)


def error_of(text):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "etc/test.ini")
    return str(info.value)


def test_example_configs_are_valid(repo_root):
    servers = [p for p in sorted((repo_root / "etc").glob("*.ini"))
               if "[sipredirect]" in p.read_text()]
    assert servers
    for path in servers:
        config = load_config(path)
        assert config.sip_port > 0


def test_defaults_come_from_the_schema():
    config = parse_config("[sipredirect]\n")
    for option in SCHEMA:
        assert hasattr(config, option.attr)
    assert config.sip_port == 5060
    assert config.t1_timeout == 500
    assert config.transports == ["udp", "tcp"]
    assert config.load_balancing is False
    assert config.resolve_sip_address == "no" and not config.dns_servers


@pytest.mark.parametrize("text, mode", [("no", "no"), ("off", "no"), ("yes", "yes"),
                                        ("true", "yes"), ("RFC3263", "rfc3263")])
def test_resolve_sip_address_keeps_its_boolean_spellings_and_gains_rfc3263(text, mode):
    config = parse_config("[sipredirect]\nresolve-sip-address = %s\n"
                          "dns-servers = 127.0.0.1:5353, [::1], 10.0.0.53\n" % text)
    assert config.resolve_sip_address == mode
    assert config.dns_servers == [("127.0.0.1", 5353), ("::1", 53), ("10.0.0.53", 53)]


@pytest.mark.parametrize("text, expected", [
    ("[sipredirect]\nsip-port = 70000\n",
     "etc/test.ini, line 2: [sipredirect] sip-port = 70000: must be at most 65535"),
    ("[sipredirect]\nsip-port = five\n",
     "etc/test.ini, line 2: [sipredirect] sip-port = five: not a whole number"),
    ("[sipredirect]\nsip-prot = 5060\n",
     "etc/test.ini, line 2: [sipredirect] sip-prot = 5060: unknown option"),
    ("[sipredirect]\nrouter-timeout = soon\n",
     "etc/test.ini, line 2: [sipredirect] router-timeout = soon: not a number"),
    ("[sipredirect]\nload-balancing = maybe\n",
     "etc/test.ini, line 2: [sipredirect] load-balancing = maybe: not a boolean"),
    ("[sipredirect]\nsip-address = sip://example.com\n",
     "etc/test.ini, line 2: [sipredirect] sip-address = sip://example.com: not an IP address or "
     "host name"),
    ("[sipredirect]\ntransports = udp, sctp\n",
     "etc/test.ini, line 2: [sipredirect] transports = udp, sctp: 'sctp' is not one of udp, tcp"),
    ("[sipredirect]\ndefault-routing-destinations = sip:a@h, mailto:x@y\n",
     "etc/test.ini, line 2: [sipredirect] default-routing-destinations = sip:a@h, mailto:x@y: "
     "'mailto:x@y' is not a SIP URI"),
    ("[sipredirect]\nt1-timeout = 1000\nt2-timeout = 500\n",
     "etc/test.ini, line 3: [sipredirect] t2-timeout = 500: must not be less than t1-timeout"),
    ("[sipredirect]\nno-route-status = 302\n",
     "etc/test.ini, line 2: [sipredirect] no-route-status = 302: must be at least 400"),
    ("[sipredirect]\ndefault-route-point = 9000\n",
     "etc/test.ini, line 2: [sipredirect] default-route-point = 9000: names no routing point"),
    ("[sipredirect]\nload-balancing = yes\n",
     "etc/test.ini, line 2: [sipredirect] load-balancing = yes: load balancing needs "
     "routing points"),
    ("[sipredirect]\nrouting-service = nomodule\n",
     "etc/test.ini, line 2: [sipredirect] routing-service = nomodule: expected "
     "package.module:ClassName"),
    ("[routers]\n", "etc/test.ini, line 1: [routers]: unknown section"),
    ("[sipredirect]\nresolve-sip-address = srv\n",
     "etc/test.ini, line 2: [sipredirect] resolve-sip-address = srv: must be no, yes "
     "(A record) or "
     "rfc3263"),
    ("[sipredirect]\ndns-servers = ns1.example.com\n",
     "etc/test.ini, line 2: [sipredirect] dns-servers = ns1.example.com: 'ns1.example.com': "
     "expected IP-ADDRESS[:PORT]"),
    ("[sipredirect]\ndns-servers = 127.0.0.1:0\n",
     "etc/test.ini, line 2: [sipredirect] dns-servers = 127.0.0.1:0: '127.0.0.1:0': the port"),
    ("[sipredirect]\ndns-timeout = 0\n",
     "etc/test.ini, line 2: [sipredirect] dns-timeout = 0: must be at least 0.05"),
    ("[sipredirect]\nload-balancing = yes\ndefault-route-point = 8001\n[routing-points]\n"
     "8001 =\n", "etc/test.ini, line 3: [sipredirect] default-route-point = 8001: is never used"),
    ("[sipredirect]\nattribute-mapping = sipserver\n[extensions]\nFrom:tag =\n",
     "etc/test.ini, line 2: [sipredirect] attribute-mapping = sipserver: [extensions] is for"),
    ("[sipredirect]\nattribute-mapping = nss\n[invite]\nuserdata.A = From\n",
     "etc/test.ini, line 2: [sipredirect] attribute-mapping = nss: [invite] is for"),
    ("sip-port = 1\n", "etc/test.ini, line 1: sip-port = 1 comes before any [section]"),
    ("[sipredirect]\nsip-port = 1\nsip-port = 2\n",
     "etc/test.ini, line 3: [sipredirect] sip-port: option given twice"),
    ("[sipredirect]\nsip-port = 1\n[router]\n[sipredirect]\n",
     "etc/test.ini, line 4: [sipredirect]: section given twice"),
    ("[sipredirect]\nsip-port = 1\n\nthis line has no equals sign\n",
     "etc/test.ini, line 4: cannot parse 'this line has no equals sign' (options are "
     "written 'name = value', sections '[name]')"),
    ("[sipredirect]\n[routing-points\n8001 =\n",
     "etc/test.ini, line 2: cannot parse '[routing-points'"),
    ("[routing-points]\n8001 = sip:a@h, <sip:b@h;q=0.5\n",
     "etc/test.ini, line 2: [routing-points] 8001 = sip:a@h, <sip:b@h;q=0.5: unterminated <URI>"),
    ("[routing-points]\n8001 = sip:a@h;q=2\n",
     "etc/test.ini, line 2: [routing-points] 8001 = sip:a@h;q=2: q-value out of 0..1"),
])
def test_each_kind_of_error_is_one_precise_line(text, expected):
    message = error_of(text)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.ini")
    assert str(info.value).startswith(str(tmp_path / "missing.ini") + ": cannot read")


def test_destinations_syntax():
    alternatives = parse_destinations("sip:a@h, <sip:b@h>;q=1.0 | sip:c@h;q=0.25")
    assert [[(str(u), q) for u, q in alt] for alt in alternatives] == [
        [("sip:a@h", None)], [("sip:b@h", 1.0), ("sip:c@h", 0.25)]]


def test_reference_table_lists_every_option():
    table = reference_rst()
    for option in SCHEMA:
        assert "``%s``" % option.name in table


def test_router_password_file_is_read_relative_to_the_ini_directory(tmp_path, monkeypatch):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "router.secret").write_text("from the file\n")
    (conf / "router.secret").chmod(0o600)
    ini = conf / "server.ini"
    ini.write_text("[router]\npassword-file = router.secret\n")
    monkeypatch.chdir(tmp_path)  # not the INI's directory
    config = load_config(str(ini))
    assert config.router.password == "from the file"
    assert config.router.register_timeout == 5.0
    assert config.router.max_connections_per_source == 8
    assert config.router.max_dns_per_connection == 1000


def test_router_password_file_problems_name_file_section_and_option(tmp_path):
    ini = tmp_path / "server.ini"
    ini.write_text("[router]\npassword-file = missing.secret\n")
    with pytest.raises(ConfigError) as error:
        load_config(str(ini))
    assert str(error.value).startswith(
        "%s, line 2: [router] password-file = missing.secret: cannot read %s"
        % (ini, tmp_path / "missing.secret"))
    (tmp_path / "empty.secret").write_text("\n")
    (tmp_path / "empty.secret").chmod(0o600)
    ini.write_text("[router]\npassword-file = empty.secret\n")
    with pytest.raises(ConfigError, match="empty.secret holds 0 bytes"):
        load_config(str(ini))
    ini.write_text("[router]\npassword = x\npassword-file = empty.secret\n")
    with pytest.raises(ConfigError, match="password or password-file, not both"):
        load_config(str(ini))
