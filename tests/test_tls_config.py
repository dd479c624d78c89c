"""TLS settings are checked when the configuration is read."""

import pytest

from sipredirect.config import ConfigError, parse_config
from sipredirect.testing import make_test_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("pki"))


def section_with(head, **options):
    lines = head + ["%s = %s" % (k.replace("_", "-"), v) for k, v in options.items()]
    return "\n".join(lines) + "\n"


def config_with(**options):
    return section_with(["[sipredirect]", "transports = udp, tcp, tls"], **options)


def config_error(pki, make_config, options):
    """The one-line error of a configuration whose CERT/KEY/OTHER stand for
    the test PKI's server certificate, its key and a key of no certificate."""
    names = {"CERT": pki["server_cert"], "KEY": pki["server_key"], "OTHER": pki["other_key"]}
    options = {k: names.get(v, v) for k, v in options.items()}
    with pytest.raises(ConfigError) as info:
        parse_config(make_config(**options), "t.ini")
    return str(info.value)


def test_valid_tls_settings_build_a_context(pki):
    config = parse_config(config_with(tls_certificate=pki["server_cert"],
                                      tls_private_key=pki["server_key"],
                                      tls_ca_certificates=pki["ca"],
                                      tls_verify_client="yes",
                                      tls_allowed_client_names="gateway.test"), "t.ini")
    assert config.tls_options is not None
    assert config.tls_allowed_client_names == ["gateway.test"]


@pytest.mark.parametrize("options, message", [
    ({}, "[sipredirect] tls-certificate: is required"),
    ({"tls_certificate": "/nonexistent.pem", "tls_private_key": "/x.key"},
     "[sipredirect] tls-certificate = /nonexistent.pem: cannot read /nonexistent.pem"),
    ({"tls_certificate": "KEY", "tls_private_key": "KEY"},
     "tls-certificate = {server_key}: not a PEM certificate"),
    ({"tls_certificate": "CERT", "tls_private_key": "OTHER"},
     "tls-private-key = {other_key}: the key does not belong to tls-certificate"),
    ({"tls_certificate": "CERT", "tls_private_key": "KEY", "tls_verify_client": "yes"},
     "tls-verify-client = yes: client verification needs tls-ca-certificates"),
    ({"tls_certificate": "CERT", "tls_private_key": "KEY", "tls_ca_certificates": "KEY"},
     "tls-ca-certificates = {server_key}: not a PEM bundle"),
])
def test_tls_mistakes_stop_the_start_with_one_line(pki, options, message):
    assert message.format(**pki) in config_error(pki, config_with, options)


def router_config_with(**options):
    return section_with(["[router]", "endpoint = tcp:3000:interface=127.0.0.1"], **options)


def test_router_link_without_tls_options_is_plain_tcp():
    config = parse_config(router_config_with(), "t.ini")
    assert config.router.tls_options is None
    assert config.router.tls_allowed_client_names == []


def test_router_link_tls_settings_build_a_context(pki):
    config = parse_config(router_config_with(
        tls_certificate=pki["server_cert"], tls_private_key=pki["server_key"],
        tls_ca_certificates=pki["ca"], tls_verify_client="yes",
        tls_allowed_client_names="urs-1.test, urs-2.test"), "t.ini")
    assert config.router.tls_options is not None
    assert config.router.tls_allowed_client_names == ["urs-1.test", "urs-2.test"]


@pytest.mark.parametrize("options, message", [
    ({"tls_verify_client": "yes"},
     "[router] tls-certificate: is required with a router link over TLS"),
    ({"tls_certificate": "CERT", "tls_private_key": "OTHER"},
     "[router] tls-private-key = {other_key}: the key does not belong"),
    ({"tls_certificate": "CERT", "tls_private_key": "KEY", "tls_verify_client": "yes"},
     "[router] tls-verify-client = yes: client verification needs tls-ca-certificates"),
    ({"tls_certificate": "CERT", "tls_private_key": "KEY",
      "tls_allowed_client_names": "urs.test"},
     "[router] tls-allowed-client-names: needs tls-verify-client = yes"),
])
def test_router_link_tls_mistakes_name_the_router_section(pki, options, message):
    assert message.format(**pki) in config_error(pki, router_config_with, options)


HA_HEAD = ["[ha]", "listen = tcp:3100:interface=127.0.0.1", "peer = tcp:127.0.0.1:3101",
           "secret = " + "s" * 32]


def ha_config_with(**options):
    return section_with(HA_HEAD, **options)


@pytest.fixture(scope="module")
def node_pki(tmp_path_factory):
    return make_test_pki(tmp_path_factory.mktemp("ha-pki"), node_names=("a.test",))


def test_ha_link_without_tls_options_is_plain_tcp():
    ha = parse_config(ha_config_with(), "t.ini").ha
    assert ha.tls_options is None and ha.tls_allowed_client_names == []


def test_ha_link_tls_is_mutual_and_checks_the_peer_host_by_default(node_pki):
    ha = parse_config(ha_config_with(tls_certificate=node_pki["node:a.test"],
                                     tls_private_key=node_pki["node-key:a.test"],
                                     tls_ca_certificates=node_pki["ca"]), "t.ini").ha
    context = ha.tls_options.getContext()
    from OpenSSL import SSL
    assert context.get_verify_mode() & SSL.VERIFY_FAIL_IF_NO_PEER_CERT
    assert ha.tls_allowed_client_names == [] and ha.tls_server_names == ["127.0.0.1"]


def test_ha_link_tls_names_serve_both_directions(node_pki):
    ha = parse_config(ha_config_with(tls_certificate=node_pki["node:a.test"],
                                     tls_private_key=node_pki["node-key:a.test"],
                                     tls_ca_certificates=node_pki["ca"],
                                     tls_allowed_client_names="a.test, b.test"), "t.ini").ha
    assert ha.tls_allowed_client_names == ha.tls_server_names == ["a.test", "b.test"]


def test_ha_link_tls_files_are_relative_to_the_ini(node_pki, tmp_path):
    import os
    directory = os.path.dirname(node_pki["ca"])
    ha = parse_config(ha_config_with(tls_certificate="node-a.test.pem",
                                     tls_private_key="node-a.test.key",
                                     tls_ca_certificates="ca.pem"),
                      os.path.join(directory, "pair.ini")).ha
    assert ha.tls_options is not None and ha.tls_ca_certificates == node_pki["ca"]


@pytest.mark.parametrize("options, message", [
    ({"tls_certificate": "CERT"},
     "t.ini, line 1: [ha] tls-private-key: is required with the HA link over TLS"),
    ({"tls_ca_certificates": "CA"},
     "t.ini, line 1: [ha] tls-certificate: is required with the HA link over TLS"),
    ({"tls_certificate": "CERT", "tls_private_key": "KEY"},
     "t.ini, line 1: [ha] tls-ca-certificates: is required with the HA link over TLS"),
    ({"tls_certificate": "CERT", "tls_private_key": "OTHER", "tls_ca_certificates": "CA"},
     "[ha] tls-private-key = {other_key}: the key does not belong to tls-certificate"),
    ({"tls_certificate": "KEY", "tls_private_key": "KEY", "tls_ca_certificates": "CA"},
     "[ha] tls-certificate = {server_key}: not a PEM certificate"),
    ({"tls_certificate": "CERT", "tls_private_key": "KEY", "tls_ca_certificates": "KEY"},
     "[ha] tls-ca-certificates = {server_key}: not a PEM bundle"),
    ({"tls_certificate": "/nonexistent.pem", "tls_private_key": "KEY",
      "tls_ca_certificates": "CA"},
     "[ha] tls-certificate = /nonexistent.pem: cannot read /nonexistent.pem"),
    ({"tls_allowed_client_names": "b.test"},
     "[ha] tls-certificate: is required with the HA link over TLS"),
    ({"tls_verify_client": "yes"}, "[ha] tls-verify-client = yes: unknown option"),
])
def test_ha_link_tls_mistakes_name_the_ha_section(pki, options, message):
    options = {k: pki["ca"] if v == "CA" else v for k, v in options.items()}
    assert message.format(**pki) in config_error(pki, ha_config_with, options)


def test_ha_link_tls_over_a_peer_without_host_needs_names(pki):
    text = ha_config_with(tls_certificate=pki["server_cert"],
                          tls_private_key=pki["server_key"],
                          tls_ca_certificates=pki["ca"]).replace(
        "peer = tcp:127.0.0.1:3101", "peer = unix:/run/peer.sock")
    with pytest.raises(ConfigError, match=r"\[ha\] tls-allowed-client-names: is required "
                                          r"over TLS when peer names no host"):
        parse_config(text, "t.ini")


def test_the_example_pair_s_commented_tls_lines_work_once_uncommented(repo_root, tmp_path):
    """etc/primary.ini and etc/backup.ini name ha/NODE.pem, ha/NODE.key and
    ha/ca.pem next to the INI: with those files there, the lines work."""
    import shutil
    names = ("primary.example.net", "backup.example.net")
    pki = make_test_pki(tmp_path / "pki", node_names=names)
    (tmp_path / "ha").mkdir()
    shutil.copy(pki["ca"], tmp_path / "ha" / "ca.pem")
    for node in ("primary", "backup"):
        shutil.copy(pki["node:%s.example.net" % node], tmp_path / "ha" / ("%s.pem" % node))
        shutil.copy(pki["node-key:%s.example.net" % node], tmp_path / "ha" / ("%s.key" % node))
        text = (repo_root / "etc" / ("%s.ini" % node)).read_text()
        assert "; tls-certificate = ha/%s.pem" % node in text
        text = text.replace("\n; tls-", "\ntls-")
        ha = parse_config(text, str(tmp_path / ("%s.ini" % node))).ha
        assert ha.tls_options is not None and ha.tls_server_names == list(names)
