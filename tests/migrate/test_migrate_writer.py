"""The written INI: every value under a comment naming its Genesys origin,
and the file loads with sipredirect's own configuration loader."""

from pathlib import Path

import pytest

from sipredirect.config import parse_config
from sipredirect.migrate import check_ini, convert, parse_dn_list, parse_export, render_ini

DATA = Path(__file__).resolve().parents[1] / "data" / "migrate"
REPO = Path(__file__).resolve().parents[2]


def convert_files(export, dns, codes=()):
    options = parse_export(export.read_text(), export.name)
    rows = parse_dn_list(dns.read_text(), dns.name) if dns else ()
    return render_ini(convert(options, rows, codes), [export.name])


def test_sample_round_trip_through_the_config_loader():
    text = convert_files(DATA / "nss-app.cfg", DATA / "nss-dns.csv", [("premise1", "ERP1")])
    config = check_ini(text, "converted.ini")
    assert config.load_balancing is True and config.attribute_mapping == "nss"
    assert sorted(config.routing_points) == ["8001", "8002"]
    assert config.router_timeout == 5 and config.t1_timeout == 500
    assert [str(uri) for uri in config.default_routing_destinations] == [
        "sip:overflow@127.0.0.1:5091", "sip:overflow@127.0.0.1:5092"]
    model = config.call_model
    assert model.access_codes == {"premise1": "ERP1"}
    assert model.dns["trunk-premise1"].replace_prefix == ""
    assert model.dns["gw-inbound"].replace_prefix is None
    assert str(model.dns["9002"].contact) == "sip:9002@127.0.0.1:5082"
    assert [key for key, _ in model.extensions] == ["From:tag"]
    assert config.ignored_genesys_options == []


def test_each_value_is_under_a_comment_naming_its_origin():
    lines = convert_files(DATA / "nss-app.cfg", None).splitlines()
    index = lines.index("router-timeout = 5")
    assert lines[index - 1] == "; from nss-app.cfg, line 5: [TServer] router-timeout=5 sec (seconds)"
    assert "; enable-sip-port-on-backup = no" in lines  # the commented [ha] section


def test_user_example_converts_and_loads():
    example = REPO / "examples" / "migrate"
    text = convert_files(example / "nss-app.cfg", example / "nss-dns.csv",
                         [("SIP_Premise_1", "ERP1"), ("SIP_Premise_2", "ERP2")])
    config = parse_config(text, "example.ini")
    assert set(config.call_model.access_codes) == {"SIP_Premise_1", "SIP_Premise_2"}


@pytest.mark.parametrize("export", [
    "[TServer]\nsip-address=sip.example.com\nsip-port=5060\n",
    "[TServer]\nload-balancing=true\n",
    "[TServer]\ndefault-route-point=7000\n[INVITE]\nextensions.F=From\n",
])
def test_written_files_load(export):
    text = render_ini(convert(parse_export(export, "a.cfg")), ["a.cfg"])
    check_ini(text, "a.ini")
