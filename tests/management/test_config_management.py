"""The [management] section of the INI file."""

import pytest

from sipredirect.config import ConfigError, parse_config


def test_defaults_listen_on_loopback_and_answer_503():
    management = parse_config("").management
    assert management.endpoint == "tcp:9060:interface=127.0.0.1"
    assert management.drain_answer == 503 and management.drain_retry_after == 30
    assert management.decision_log == ""


def test_empty_endpoint_turns_it_off():
    assert parse_config("[management]\nendpoint =\n").management.endpoint == ""


@pytest.mark.parametrize("text, message", [
    ("drain-answer = 404", "x.ini, line 2: [management] drain-answer = 404: must be 503 "
                           "or 302"),
    ("drain-answer = 302", "x.ini: [management] drain-redirect-to = : drain-answer = 302 "
                           "needs exactly one SIP URI here"),
    ("drain-retry-after = 0", "x.ini, line 2: [management] drain-retry-after = 0: must be at "
                              "least 1"),
    ("allowed-sources = nowhere", "x.ini, line 2: [management] allowed-sources = nowhere: "
                                  "'nowhere' is not an IP address or network"),
    ("colour = blue", "x.ini, line 2: [management] colour = blue: unknown option"),
    ("allowed-hosts = http://evil", "x.ini, line 2: [management] allowed-hosts = "
                                    "http://evil: "
                                    "'http://evil' is not a host name or address (no "
                                    "port, no URL)"),
    ("allowed-hosts = a.example:9060", "x.ini, line 2: [management] allowed-hosts = "
                                       "a.example:9060: 'a.example:9060' is not a host"),
])
def test_errors_name_file_section_option_and_value(text, message):
    with pytest.raises(ConfigError) as info:
        parse_config("[management]\n%s\n" % text, "x.ini")
    assert str(info.value).startswith(message)


def test_302_to_the_peer():
    management = parse_config("[management]\ndrain-answer = 302\n"
                              "drain-redirect-to = sip:192.0.2.11:5060\n").management
    assert [str(u) for u in management.drain_redirect_to] == ["sip:192.0.2.11:5060"]


def test_allowed_hosts_are_names_or_addresses_lower_case():
    management = parse_config("[management]\nallowed-hosts = SIP-1.Example.net., "
                              "192.0.2.10 ::1\n").management
    assert management.allowed_hosts == ["sip-1.example.net", "192.0.2.10", "::1"]
