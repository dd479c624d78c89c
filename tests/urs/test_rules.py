"""The reference router's rules file: parsing, validation messages, and the
decision each EventRouteRequest gets."""

from pathlib import Path

import pytest

from sipredirect.urs.rules import Decision, RouterSettings, RulesError, parse_rules

REPO = Path(__file__).resolve().parents[2]


def event(**fields):
    base = {"message": "EventRouteRequest", "ThisDN": "8001", "ThisQueue": "8001",
            "ConnID": "006c02ab4a93f001", "CallUUID": "1VJ3ICNE8D4HLBAJ7TRPDIMF84000001",
            "ANI": "29111", "DNIS": "8001", "OtherDN": "29111", "CallType": 2,
            "Extensions": {}}
    base.update(fields)
    return base


def error_of(text, path="rules.ini"):
    with pytest.raises(RulesError) as info:
        parse_rules(text, path)
    return str(info.value)


# -- decisions ----------------------------------------------------------------

def test_route_rule_answers_default_route_to_its_destination():
    rules = parse_rules("[rule all]\nroute = sip:a@10.0.0.1\n")
    assert rules.decide(event()) == Decision("all", "route", route_type="Default",
                                             other_dn="sip:a@10.0.0.1", extensions=None)


def test_first_matching_rule_wins_in_file_order():
    rules = parse_rules("[rule first]\ndn = 80*\nroute = first\n"
                        "[rule second]\ndn = 8001\nroute = second\n"
                        "[rule rest]\nroute = rest\n")
    assert rules.decide(event(ThisDN="8001")).other_dn == "first"
    assert rules.decide(event(ThisDN="9001")).other_dn == "rest"
    assert [r.name for r in rules.rules] == ["first", "second", "rest"]


def test_round_robin_is_per_rule_and_carries_on_across_calls():
    rules = parse_rules("[rule a]\ndn = 8001\nroute = sip:x@h, sip:y@h ,sip:z@h\n"
                        "[rule b]\nroute = sip:p@h, sip:q@h\n")
    got = [rules.decide(event(ThisDN=dn)).other_dn
           for dn in ("8001", "8001", "9", "8001", "8001", "9", "9")]
    assert got == ["sip:x@h", "sip:y@h", "sip:p@h", "sip:z@h", "sip:x@h", "sip:q@h",
                   "sip:p@h"]


def test_patterns_are_shell_style_and_case_sensitive():
    rules = parse_rules("[rule r]\nani = sip:29?11@*\nroute = hit\n")
    assert rules.decide(event(ANI="sip:29111@10.0.0.1")).other_dn == "hit"
    assert rules.decide(event(ANI="SIP:29111@10.0.0.1")) is None
    assert rules.decide(event(ANI="sip:291111@10.0.0.1")) is None
    rules = parse_rules("[rule r]\ndn = 800[12]\nroute = hit\n")
    assert rules.decide(event(ThisDN="8002")) is not None
    assert rules.decide(event(ThisDN="8003")) is None


@pytest.mark.parametrize("option, attribute", [
    ("dn", "ThisDN"), ("ani", "ANI"), ("dnis", "DNIS"), ("otherdn", "OtherDN")])
def test_each_match_option_reads_its_attribute(option, attribute):
    rules = parse_rules("[rule r]\n%s = wanted\nroute = hit\n" % option)
    assert rules.decide(event(**{attribute: "wanted"})) is not None
    assert rules.decide(event(**{attribute: "other"})) is None


def test_all_match_options_must_match():
    rules = parse_rules("[rule r]\ndn = 8001\nani = 29*\ndnis = 8001\notherdn = 29111\n"
                        "route = hit\n")
    assert rules.decide(event()) is not None
    assert rules.decide(event(DNIS="8002")) is None
    assert rules.decide(event(ANI="1")) is None


def test_missing_attribute_matches_as_empty_string():
    rules = parse_rules("[rule any]\nani = *\nroute = a\n")
    no_ani = event()
    del no_ani["ANI"]
    assert rules.decide(no_ani) is not None
    rules = parse_rules("[rule some]\nani = ?*\nroute = a\n")
    assert rules.decide(no_ani) is None


def test_reroute_matches_on_reroute_count():
    rules = parse_rules("[rule again]\nreroute = yes\nroute = second-choice\n"
                        "[rule fresh]\nreroute = no\nroute = first-choice\n")
    assert rules.decide(event()).other_dn == "first-choice"
    assert rules.decide(event(Extensions={"RerouteCount": 0})).other_dn == "first-choice"
    assert rules.decide(event(Extensions={"RerouteCount": 1})).other_dn == "second-choice"
    assert rules.decide(event(Extensions={"RerouteCount": "2"})).other_dn == "second-choice"
    no_extensions = event()
    del no_extensions["Extensions"]
    assert rules.decide(no_extensions).other_dn == "first-choice"


def test_reject_carries_code_and_reason_in_extensions():
    rules = parse_rules("[rule busy]\nreject = 486\nreason = Busy Here\n")
    assert rules.decide(event()) == Decision(
        "busy", "reject", route_type="Reject", other_dn=None,
        extensions={"SIP_RESPONSE_CODE": 486, "SIP_RESPONSE_REASON": "Busy Here"})


def test_reject_without_reason_sends_only_the_code():
    rules = parse_rules("[rule r]\naction = reject\nreject = 603\n")
    assert rules.decide(event()).extensions == {"SIP_RESPONSE_CODE": 603}


def test_headers_become_sip_headers_extensions_in_file_order():
    rules = parse_rules("[rule r]\nroute = sip:a@h\n"
                        "headers = X-Queue: sales; X-Skill: french;  X-Url: http://x:8/a\n")
    assert rules.decide(event()).extensions == {
        "SIP_HEADERS": "X-Queue,X-Skill,X-Url", "X-Queue": "sales", "X-Skill": "french",
        "X-Url": "http://x:8/a"}


def test_ignore_and_delay():
    rules = parse_rules("[rule hang]\ndn = 8009\naction = ignore\n"
                        "[rule slow]\nroute = a\ndelay = 0.25\n")
    assert rules.decide(event(ThisDN="8009")) == Decision("hang", "ignore")
    assert rules.decide(event()).delay == 0.25


def test_no_matching_rule_decides_nothing():
    rules = parse_rules("[rule r]\ndn = 8001\nroute = a\n")
    assert rules.decide(event(ThisDN="8002")) is None


def test_router_section_holds_command_line_defaults():
    rules = parse_rules("# comment\n[router]\nname = urs-7\ndns = 8001, 8002\n"
                        "keepalive = 2.5\n\n[rule r]\nroute = a\n")
    assert rules.settings == RouterSettings("urs-7", ("8001", "8002"), 2.5)
    assert parse_rules("[rule r]\nroute = a\n").settings == RouterSettings()


def test_option_names_are_case_insensitive_and_values_keep_their_case():
    rules = parse_rules("[rule r]\nDN = 8001\nRoute = sip:Agent@H\n")
    assert rules.decide(event()).other_dn == "sip:Agent@H"


def test_uri_parameters_with_equals_signs_survive():
    rules = parse_rules("[rule r]\nroute = sip:a@h;transport=tcp\n")
    assert rules.decide(event()).other_dn == "sip:a@h;transport=tcp"


def test_the_shipped_example_file_parses_and_routes_as_documented():
    path = REPO / "etc" / "router-rules.ini"
    rules = parse_rules(path.read_text(), path)
    first, second = (rules.decide(event(ThisDN="8001")) for _ in range(2))
    assert (first.other_dn, second.other_dn) == ("sip:agent1@127.0.0.1:5070",
                                                 "sip:agent2@127.0.0.1:5071")
    assert first.extensions == {"SIP_HEADERS": "X-Routed-By",
                                "X-Routed-By": "sipredirect-router"}
    busy = rules.decide(event(ThisDN="8002"))
    assert (busy.route_type, busy.extensions["SIP_RESPONSE_CODE"]) == ("Reject", 486)
    assert rules.decide(event(ThisDN="8000")).other_dn == "sip:overflow@127.0.0.1:5079"


# -- errors ---------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("[rule r]\nroute = a\ndelay = soon\n",
     "rules.ini, line 3: [rule r] delay = soon: not a number"),
    ("[rule r]\nroute = a\ndelay = -1\n",
     "rules.ini, line 3: [rule r] delay = -1: must be >= 0 and <= 3600"),
    ("[rule r]\nroute = a\ndelay = nan\n",
     "rules.ini, line 3: [rule r] delay = nan: not a finite number"),
    ("[rule r]\nreject = 302\n",
     "rules.ini, line 2: [rule r] reject = 302: a SIP final status from 400 to 699"),
    ("[rule r]\nreject = busy\n",
     "rules.ini, line 2: [rule r] reject = busy: a SIP final status from 400 to 699"),
    ("[rule r]\nroute = a\nreason = Busy\n",
     "rules.ini, line 3: [rule r] reason = Busy: reason is only used with reject"),
    ("[rule r]\nroute = a\nreroute = maybe\n",
     "rules.ini, line 3: [rule r] reroute = maybe: not a boolean (use yes/no, true/false, "
     "on/off, 1/0)"),
    ("[rule r]\nroute = a, ,b\n",
     "rules.ini, line 2: [rule r] route = a, ,b: expected a comma-separated list of non-empty "
     "items"),
    ("[rule r]\nroute = sip:a@h sip:b@h\n",
     "rules.ini, line 2: [rule r] route = sip:a@h sip:b@h: 'sip:a@h sip:b@h' contains white "
     "space"),
    ("[rule r]\nroute = a\nreject = 486\n",
     "rules.ini, line 1: [rule r]: give either route or reject, not both"),
    ("[rule r]\ndn = 8001\n",
     "rules.ini, line 1: [rule r]: no action: give route, reject or action = ignore"),
    ("[rule r]\naction = drop\n",
     "rules.ini, line 2: [rule r] action = drop: unknown action (use route, reject, ignore)"),
    ("[rule r]\naction = route\n",
     "rules.ini, line 1: [rule r]: action = route needs a route option"),
    ("[rule r]\naction = reject\n",
     "rules.ini, line 1: [rule r]: action = reject needs a reject option"),
    ("[rule r]\naction = ignore\nroute = a\n",
     "rules.ini, line 3: [rule r] route = a: not used with action = ignore"),
    ("[rule r]\nroute = a\nheaders = X-Queue sales\n",
     "rules.ini, line 3: [rule r] headers = X-Queue sales: 'X-Queue sales' is not 'Name: value'"),
    ("[rule r]\nroute = a\nheaders = X-Queue:\n",
     "rules.ini, line 3: [rule r] headers = X-Queue:: header X-Queue has no value"),
    ("[rule r]\nroute = a\nheaders = SIP_HEADERS: x\n",
     "rules.ini, line 3: [rule r] headers = SIP_HEADERS: x: SIP_HEADERS is a reserved "
     "Extensions key"),
    ("[rule r]\nroute = a\nheaders = X-A: 1; Contact: <sip:x@h>\n",
     "rules.ini, line 3: [rule r] headers = X-A: 1; Contact: <sip:x@h>: Contact cannot be set "
     "by a router (RFC 3261 8.2.6.2)"),
    ("[rule r]\nroute = a\nheaders = v: SIP/2.0/UDP h\n",
     "rules.ini, line 3: [rule r] headers = v: SIP/2.0/UDP h: v cannot be set by a router "
     "(RFC 3261 8.2.6.2)"),
    ("[rule r]\nroute = a\nheaders = X-A: 1; x-a: 2\n",
     "rules.ini, line 3: [rule r] headers = X-A: 1; x-a: 2: header x-a given twice"),
    ("[rule r]\nreject = 486\nheaders = X-A: 1\n",
     "rules.ini, line 3: [rule r] headers = X-A: 1: headers are only sent with route"),
    ("[rule r]\ndn =\nroute = a\n",
     "rules.ini, line 2: [rule r] dn = : empty pattern (use * to match anything)"),
    ("[rule r]\nroute = a\ncolour = red\n",
     "rules.ini, line 3: [rule r] colour = red: unknown option (known: action, ani, delay, dn, "
     "dnis, headers, location, otherdn, reason, reject, reroute, route)"),
    ("[rules r]\nroute = a\n",
     "rules.ini, line 1: [rules r]: unknown section (use [router] or [rule NAME])"),
    ("[rule ]\nroute = a\n",
     "rules.ini, line 1: [rule ]: unknown section (use [router] or [rule NAME])"),
    ("[DEFAULT]\nroute = a\n[rule r]\nroute = a\n",
     "rules.ini, line 1: [DEFAULT]: unknown section (use [router] or [rule NAME])"),
    ("[rule r]\nroute = a\n[rule  r]\nroute = b\n",
     "rules.ini, line 3: [rule  r]: rule name used twice"),
    ("[rule r]\nroute = a\n[rule r]\nroute = b\n",
     "rules.ini: [rule r]: section appears twice (line 3)"),
    ("[rule r]\nroute = a\nroute = b\n",
     "rules.ini: [rule r] route: option given twice in the section (line 3)"),
    ("route = a\n",
     "rules.ini: line 1: 'route = a' comes before any [section]"),
    ("[rule r]\nroute: a\n",
     "rules.ini: line 2: cannot parse route: a (options are written 'name = value')"),
    ("[rule r]\nroute = a\n  b\n",
     "rules.ini, line 2: [rule r] route = a b: must fit on one line"),
    ("[router]\nkeepalive = 0\n[rule r]\nroute = a\n",
     "rules.ini, line 2: [router] keepalive = 0: must be > 0 and <= 86400"),
    ("[router]\nname = two words\n[rule r]\nroute = a\n",
     "rules.ini, line 2: [router] name = two words: a client name is one non-empty word"),
    ("[router]\ndns = 8001,\n[rule r]\nroute = a\n",
     "rules.ini, line 2: [router] dns = 8001,: expected a comma-separated list of non-empty "
     "items"),
    ("[router]\npassword = x\n[rule r]\nroute = a\n",
     "rules.ini, line 2: [router] password = x: unknown option (known: dns, keepalive, name)"),
    ("[router]\nname = x\n",
     "rules.ini: no [rule NAME] section: the router would answer nothing"),
])
def test_errors_name_file_section_option_and_value(text, message):
    assert error_of(text) == message


def test_error_message_is_one_line():
    assert "\n" not in error_of("[rule r]\nroute = a\n  b\n")


def test_error_without_a_path():
    with pytest.raises(RulesError) as info:
        parse_rules("[rule r]\ndelay = x\nroute = a\n")
    assert str(info.value) == "[rule r] delay = x: not a number"


def test_location_is_sent_with_route_for_iscc_access_codes():
    """``location`` names the destination switch; the server puts that
    switch's access code before OtherDN (seed migration use case 1)."""
    from sipredirect.urs.rules import RulesError, parse_rules
    rules = parse_rules("[rule premise]\ndn = 8001\nroute = 9001\nlocation = premise1\n")
    decision = rules.decide({"ThisDN": "8001", "ConnID": "c"})
    assert (decision.other_dn, decision.location) == ("9001", "premise1")
    try:
        parse_rules("[rule r]\nreject = 486\nlocation = premise1\n", "r.ini")
    except RulesError as e:
        assert "location is only sent with route" in str(e)
    else:
        raise AssertionError("location with reject was accepted")
