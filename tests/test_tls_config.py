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
