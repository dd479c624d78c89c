"""Genesys options without meaning here are accepted, named in one warning
line at start and documented; a misspelling is still an error; a host name
in sip-address is resolved once at start."""

import re
import socket

import pytest
from twisted.internet import task
from twisted.logger import capturedLogs

from sipredirect.config import ConfigError, parse_config
from sipredirect.schema import IGNORED_GENESYS_OPTIONS
from sipredirect.schema.genesys import ignored_options_rst
from sipredirect.sipaddress import resolve_sip_address
from sipredirect.tap import log_start_notes, make_services

SEED_CHECKLIST = ("sip-link-type", "ringing-on-route-point")


def test_the_seed_checklist_and_sip_server_options_are_known_and_explained():
    for name in SEED_CHECKLIST + ("sip-enable-100rel", "sip-enable-call-info"):
        assert name in IGNORED_GENESYS_OPTIONS
    for name, reason in IGNORED_GENESYS_OPTIONS.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
        assert len(reason) > 20, name
    with pytest.raises(TypeError):
        IGNORED_GENESYS_OPTIONS["x"] = "read-only: sipredirect-migrate imports it"


def test_ignored_options_are_accepted_and_listed_sorted():
    config = parse_config("[sipredirect]\nsip-link-type = 0\nringing-on-route-point = false\n"
                          "sip-enable-100rel = false\nsip-port = 5070\n")
    assert config.ignored_genesys_options == ["ringing-on-route-point", "sip-enable-100rel",
                                              "sip-link-type"]
    assert config.sip_port == 5070
    assert parse_config("[sipredirect]\n").ignored_genesys_options == []


@pytest.mark.parametrize("text, section, option", [
    ("[sipredirect]\nsip-link-typ = 0\n", "sipredirect", "sip-link-typ = 0"),
    ("[sipredirect]\nringing-on-routepoint = false\n", "sipredirect",
     "ringing-on-routepoint = false"),
    # Only [sipredirect] stands for the Genesys application's options.
    ("[router]\nsip-link-type = 0\n", "router", "sip-link-type = 0"),
])
def test_a_misspelled_or_misplaced_option_still_stops_the_start(text, section, option):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "etc/test.ini")
    assert str(info.value) == "etc/test.ini, line 2: [%s] %s: unknown option" % (section, option)


def test_make_services_logs_one_warning_line_naming_them():
    config = parse_config("[sipredirect]\nsip-link-type = 0\nringing-on-route-point = false\n"
                          "[router]\nendpoint =\n[management]\nendpoint =\n")
    with capturedLogs() as events:
        make_services(config, reactor=task.Clock())
    warnings = [e for e in events if "ignored Genesys options" in e["log_format"]]
    assert len(warnings) == 1
    assert warnings[0]["names"] == "ringing-on-route-point, sip-link-type"
    assert warnings[0]["log_level"].name == "warn"


def test_docs_migration_lists_every_ignored_option_with_its_reason(repo_root):
    text = (repo_root / "docs" / "migration.rst").read_text()
    start = text.index(".. BEGIN IGNORED GENESYS OPTIONS\n\n") + len(
        ".. BEGIN IGNORED GENESYS OPTIONS\n\n")
    end = text.index("\n.. END IGNORED GENESYS OPTIONS")
    assert text[start:end] == ignored_options_rst(), (
        "regenerate the table with: python -m sipredirect.schema.genesys")
    for name in IGNORED_GENESYS_OPTIONS:
        assert "``%s``" % name in text[start:end]


class FakeResolver:
    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def __call__(self, host, port, family, kind):
        self.asked.append((host, port, kind))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(family_, kind, 17, "", (address, port))
                for family_, address in self.answers[host]]


def test_a_host_name_in_sip_address_is_resolved_once_to_its_first_address():
    config = parse_config("[sipredirect]\nsip-address = SIP.Example.NET.\nsip-port = 5070\n")
    assert config.sip_address == "sip.example.net"
    resolver = FakeResolver({"sip.example.net": [(socket.AF_INET, "192.0.2.7"),
                                                 (socket.AF_INET6, "2001:db8::7")]})
    assert resolve_sip_address(config, resolver) == "192.0.2.7"
    assert resolver.asked == [("sip.example.net", 5070, socket.SOCK_DGRAM)]
    assert (config.sip_address, config.sip_host_name) == ("192.0.2.7", "sip.example.net")
    with capturedLogs() as events:
        log_start_notes(config)
    assert [(e["name"], e["address"]) for e in events] == [("sip.example.net", "192.0.2.7")]


def test_an_address_in_sip_address_is_left_as_it_is():
    config = parse_config("[sipredirect]\nsip-address = ::1\n")
    resolver = FakeResolver({})
    assert resolve_sip_address(config, resolver) is None
    assert resolver.asked == [] and config.sip_address == "::1"
    assert config.sip_host_name is None


def test_an_unresolvable_host_name_is_a_config_error_naming_the_option():
    config = parse_config("[sipredirect]\nsip-address = nowhere.invalid\n", "etc/test.ini")
    with pytest.raises(ConfigError) as info:
        resolve_sip_address(config, FakeResolver({}))
    assert str(info.value) == ("etc/test.ini: [sipredirect] sip-address = nowhere.invalid: "
                               "the host name does not resolve (Name or service not known)")
