"""[probing] and [destination:URI] in the INI: values and clear errors."""

import pytest

from sipredirect.config import ConfigError, parse_config
from sipredirect.pool.settings import destination_specs

BASE = """[sipredirect]
default-routing-destinations = sip:a@10.0.0.1
[routing-points]
8001 =
"""


def error_of(text):
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + text, "x.ini")
    return str(info.value)


def test_probing_defaults():
    probing = parse_config(BASE, "x.ini").probing
    assert probing.enabled is False
    d = probing.defaults
    assert (d.interval, d.timeout, d.failures_before_down, d.successes_before_up,
            d.alive_statuses) == (5.0, 2.0, 3, 2, None)


def test_alive_statuses_any_or_codes():
    config = parse_config(BASE + "[probing]\nalive-statuses = 200, 404\n", "x.ini")
    assert config.probing.defaults.alive_statuses == frozenset([200, 404])
    assert config.probing.defaults.alive(404) and not config.probing.defaults.alive(503)
    assert error_of("[probing]\nalive-statuses = 200, ok\n") == (
        "x.ini, line 6: [probing] alive-statuses = 200, ok: 'ok' is not a SIP status code "
        "(100-699) or any")


def test_probe_from_and_to_must_be_sip_uris():
    probing = parse_config(BASE + "[probing]\nfrom = sip:probe@ops.example.test\n"
                           "to = sips:health@10.0.0.1;transport=tcp\n", "x.ini").probing
    assert (probing.defaults.from_uri, probing.defaults.to_uri) == (
        "sip:probe@ops.example.test", "sips:health@10.0.0.1;transport=tcp")
    assert parse_config(BASE, "x.ini").probing.defaults.from_uri == ""
    assert error_of("[probing]\nfrom = probe at ops\n") == (
        "x.ini, line 6: [probing] from = probe at ops: 'probe at ops' is not a SIP URI "
        "(illegal character ' ' in URI)")
    assert error_of("[probing]\nto = <sip:health@10.0.0.1>\n") == (
        "x.ini, line 6: [probing] to = <sip:health@10.0.0.1>: '<sip:health@10.0.0.1>' is not a "
        "SIP URI (illegal character '<' in URI); write the URI without <>")
    assert error_of("[probing]\nto = tel:+15551234\n").startswith(
        "x.ini, line 6: [probing] to = tel:+15551234: 'tel:+15551234' is not a SIP URI")


def test_timeout_is_bounded_by_timer_f_and_the_interval():
    assert error_of("[probing]\ninterval = 60\ntimeout = 40\n") == (
        "x.ini, line 7: [probing] timeout = 40: must not be longer than Timer F "
        "(64*t1-timeout = 32s)")
    assert error_of("[probing]\ninterval = 1\ntimeout = 2\n") == (
        "x.ini, line 7: [probing] timeout = 2: must not be longer than the probe interval "
        "(1s)")


def test_a_destination_section_must_name_a_configured_destination():
    assert error_of("[destination:sip:typo@10.0.0.1]\nweight = 2\n") == (
        "x.ini, line 5: [destination:sip:typo@10.0.0.1]: names no destination: "
        "sip:typo@10.0.0.1 is not in default-routing-destinations, a routing point's "
        "destinations, a trunk's contact (oosp-transfer-enabled) or drain-redirect-to")


def test_destination_options_are_checked():
    assert error_of("[destination:sip:a@10.0.0.1]\nweight = 0\n") == (
        "x.ini, line 6: [destination:sip:a@10.0.0.1] weight = 0: must be at least 1")
    assert error_of("[destination:sip:a@10.0.0.1]\nspeed = 2\n") == (
        "x.ini, line 6: [destination:sip:a@10.0.0.1] speed = 2: unknown option")
    assert error_of("[destination:mailto:x]\n").startswith(
        "x.ini, line 5: [destination:mailto:x]: 'mailto:x' is not a SIP URI")


def test_a_destination_section_overrides_each_probing_setting():
    """[destination:URI] overrides interval, timeout, both thresholds,
    alive-statuses, From and To for that destination alone; the others
    keep [probing]'s."""
    text = BASE.replace("sip:a@10.0.0.1", "sip:a@10.0.0.1, sip:b@10.0.0.2") + (
        "[probing]\nenabled = yes\nfrom = sip:probe@ops.example.test\n"
        "[destination:sip:a@10.0.0.1]\nprobe-interval = 10\nprobe-timeout = 3\n"
        "failures-before-down = 5\nsuccesses-before-up = 4\nalive-statuses = 200, 404\n"
        "probe-from = sip:health@noc.example.test\nprobe-to = sip:ping@10.0.0.1\n")
    specs = destination_specs(parse_config(text, "x.ini"))
    a, b = specs["sip:a@10.0.0.1"][1].probe, specs["sip:b@10.0.0.2"][1].probe
    assert (a.interval, a.timeout, a.failures_before_down, a.successes_before_up,
            a.alive_statuses, a.from_uri, a.to_uri) == (
        10.0, 3.0, 5, 4, frozenset([200, 404]), "sip:health@noc.example.test",
        "sip:ping@10.0.0.1")
    assert (b.interval, b.timeout, b.failures_before_down, b.successes_before_up,
            b.alive_statuses, b.from_uri, b.to_uri) == (
        5.0, 2.0, 3, 2, None, "sip:probe@ops.example.test", "")
    assert error_of("[destination:sip:a@10.0.0.1]\nprobe-to = <sip:x@h>\n").endswith(
        "probe-to = <sip:x@h>: '<sip:x@h>' is not a SIP URI (illegal character '<' in URI); write the URI "
        "without <>")


def test_all_destinations_down_choices():
    text = BASE.replace("[sipredirect]\n", "[sipredirect]\nall-destinations-down = maybe\n")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "x.ini")
    assert str(info.value).startswith(
        "x.ini, line 2: [sipredirect] all-destinations-down = maybe:")
    assert "is not one of use-anyway, reject" in str(info.value)
    assert parse_config(text.replace("maybe", "reject"), "x.ini").all_destinations_down \
        == "reject"
