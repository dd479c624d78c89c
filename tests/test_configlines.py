"""Configuration errors name the line where the option is written
(sipredirect/configlines.py): the locator read on its own, then the
errors of parse_config and of the checks made after it."""

import configparser
from pathlib import Path

import pytest

from sipredirect.config import ConfigError, load_config, parse_config
from sipredirect.configlines import OptionLines
from sipredirect.tap import Options

REPO = Path(__file__).resolve().parent.parent


def line_of(text, needle):
    """The number of the (only) line of ``text`` that contains ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


# -- the locator ---------------------------------------------------------------

GENERIC = """\
; a comment: [not-a-section]
# x = not an option
[DEFAULT]
timeout = 5

[a]
Router-Timeout = 2
port: 5060
destinations = sip:a@h,
    sip:b@h
    not-an-option = 1

[b]
port = 5070
"""


def generic_lines(**settings):
    return OptionLines(GENERIC, "g.ini", **settings)


def test_a_different_case_finds_the_option_the_parser_lowercased():
    lines = generic_lines()
    assert lines.option("a", "router-timeout") == 7
    assert lines.option("a", "ROUTER-TIMEOUT") == 7


def test_a_colon_separates_when_the_parser_takes_it():
    assert generic_lines().option("a", "port") == 8
    # With "=" only, "port: 5060" is no option of its own.
    assert generic_lines(delimiters=("=",)).option("a", "port") is None


def test_continuation_lines_belong_to_the_option_above():
    lines = generic_lines()
    assert lines.option("a", "destinations") == 9
    assert lines.option("a", "not-an-option") is None
    assert lines.option("b", "port") == 14


def test_comments_are_neither_sections_nor_options():
    lines = generic_lines()
    assert lines.section("not-a-section") is None
    assert lines.option("DEFAULT", "x") is None


def test_default_gives_its_options_to_every_section_that_exists():
    lines = generic_lines()
    assert lines.section("DEFAULT") == 3
    assert lines.option("a", "timeout") == 4
    assert lines.option("b", "timeout") == 4
    assert lines.option("absent", "timeout") is None
    # A section's own value hides DEFAULT's.
    text = GENERIC + "timeout = 9\n"
    assert OptionLines(text, "g.ini").option("b", "timeout") == 15


def test_the_same_option_name_in_two_sections_has_two_lines():
    lines = generic_lines()
    assert (lines.section("a"), lines.section("b")) == (6, 13)
    assert (lines.option("a", "port"), lines.option("b", "port")) == (8, 14)


def test_an_option_given_only_by_a_default_has_no_line():
    assert generic_lines().option("a", "sip-port") is None


def test_a_blank_line_ends_a_value_when_the_parser_says_so():
    text = "[a]\nx = 1\n\n  y = 2\n"
    assert OptionLines(text, empty_lines_in_values=False).option("a", "y") == 4
    assert OptionLines(text, empty_lines_in_values=True).option("a", "y") is None


def test_every_option_configparser_reads_is_located_on_a_line_that_names_it():
    """The locator and configparser agree on a real file with every form."""
    text = (REPO / "etc" / "primary.ini").read_text() + GENERIC.replace("[DEFAULT]",
                                                                        "[c]")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    lines = OptionLines(text)
    source = text.splitlines()
    for section in parser.sections():
        assert section in source[lines.section(section) - 1]
        for option in parser.options(section):
            number = lines.option(section, option)
            assert number is not None, (section, option)
            assert source[number - 1].lower().lstrip().startswith(option), (section, option)


def test_an_error_about_a_missing_option_names_the_section_or_says_it_is_absent():
    lines = OptionLines("[sipredirect]\n\n[ha]\nlisten = tcp:1\n", "x.ini")
    missing = ConfigError("is required for a pair", "x.ini", "ha", "peer")
    assert str(missing.locate(lines)) == "x.ini, line 3: [ha] peer: is required for a pair"
    absent = ConfigError("is required", "x.ini", "http-router", "url")
    assert str(absent.locate(lines)) == ("x.ini: [http-router] url: is required (the file "
                                         "has no [http-router] section)")
    defaulted = ConfigError("must not be less", "x.ini", "sipredirect", "t2-timeout", "4000")
    assert str(defaulted.locate(lines)) == ("x.ini: [sipredirect] t2-timeout = 4000: must "
                                            "not be less")


def test_an_error_about_another_file_keeps_its_own_message():
    lines = OptionLines("[router]\npassword-file = p\n", "x.ini")
    error = ConfigError("holds 0 bytes", "p", "router", "password-file")
    assert str(error.locate(lines)) == "p: [router] password-file: holds 0 bytes"


# -- errors of a whole file, at the right line ---------------------------------

PRIMARY = (REPO / "etc" / "primary.ini").read_text()


def error_of(text, path="etc/primary.ini"):
    with pytest.raises(ConfigError) as info:
        parse_config(text, path)
    return str(info.value)


def test_a_bad_value_names_its_line():
    text = PRIMARY.replace("router-timeout = 10", "router-timeout = soon")
    assert error_of(text).startswith("etc/primary.ini, line %d: [sipredirect] "
                                     "router-timeout = soon: not a number"
                                     % line_of(text, "router-timeout = soon"))


def test_an_unknown_option_names_its_line_even_after_continuation_lines():
    text = PRIMARY.replace("sip:agent2@127.0.0.1:5071, ",
                           "\n    sip:agent2@127.0.0.1:5071,\n    ").replace(
        "no-route-status = 480", "no-route-status = 480\nrouter-timout = 3")
    assert parse_config(text.replace("router-timout = 3", "")).default_routing_destinations
    assert error_of(text) == ("etc/primary.ini, line %d: [sipredirect] router-timout = 3: "
                              "unknown option" % line_of(text, "router-timout"))


def test_an_option_that_conflicts_with_another_names_its_own_line():
    text = PRIMARY.replace("load-balancing = no", "load-balancing = yes")
    assert error_of(text).startswith(
        "etc/primary.ini, line %d: [sipredirect] default-route-point = 8000: is never used "
        "with load-balancing = yes" % line_of(text, "default-route-point = 8000"))


def test_a_routing_point_s_bad_destination_names_its_line():
    text = PRIMARY.replace("[routing-points]\n", "[routing-points]\n7777 = sip:a@h;q=7\n")
    assert error_of(text).startswith(
        "etc/primary.ini, line %d: [routing-points] 7777 = sip:a@h;q=7: q-value out of 0..1"
        % line_of(text, "7777 ="))
    text = PRIMARY + "\n[routing-point:7778]\n; why\ndestinations = mailto:x@y\n"
    assert error_of(text).startswith(
        "etc/primary.ini, line %d: [routing-point:7778] destinations = mailto:x@y:"
        % line_of(text, "mailto:x@y"))


def test_an_unknown_section_names_its_header():
    text = PRIMARY + "\n[routers]\nendpoint = tcp:1\n"
    assert error_of(text).startswith("etc/primary.ini, line %d: [routers]: unknown section"
                                     % line_of(text, "[routers]"))


def test_a_value_from_a_default_has_no_line():
    # t2-timeout is not written: its default (4000) is less than t1-timeout.
    text = "[sipredirect]\n; slow links\nt1-timeout = 5000\n"
    assert error_of(text, "x.ini") == ("x.ini: [sipredirect] t2-timeout = 4000: must not "
                                       "be less than t1-timeout (5000)")


def test_a_missing_option_names_the_section_header():
    text = PRIMARY.replace("peer = tcp:127.0.0.1:3101\n", "")
    assert error_of(text).startswith("etc/primary.ini, line %d: [ha] peer: is required"
                                     % (text.splitlines().index("[ha]") + 1))


def test_a_check_after_parsing_names_the_line_of_twistd_s_options(tmp_path, capsys):
    """``twistd sipredirect``'s options: the plug-in is loaded after
    parsing, and its error names the line too."""
    ini = tmp_path / "server.ini"
    ini.write_text(PRIMARY.replace("[sipredirect]\n", "[sipredirect]\n; the plug-in\n"
                                   "routing-service = sipredirect.nosuch:Service\n"))
    options = Options()
    options["config"] = str(ini)
    with pytest.raises(SystemExit) as info:
        options.postOptions()
    assert info.value.code == 78
    assert ("%s, line %d: [sipredirect] routing-service = sipredirect.nosuch:Service: "
            "cannot load it" % (ini, line_of(ini.read_text(), "nosuch"))
            in capsys.readouterr().err)


def test_the_parsed_configuration_keeps_its_locator(tmp_path):
    ini = tmp_path / "server.ini"
    ini.write_text(PRIMARY)
    config = load_config(str(ini))
    assert config.lines.option("sipredirect", "sip-port") == line_of(PRIMARY, "sip-port =")


def test_the_documented_examples_are_what_the_server_says():
    """docs/reference/configuration.rst and docs/howto/reload.rst quote
    errors of etc/primary.ini; they stay true when the example moves."""
    page = (REPO / "docs" / "reference" / "configuration.rst").read_text()
    quoted = page.split("sipredirect: configuration error: ", 1)[1].splitlines()[0]
    assert error_of(PRIMARY.replace("sip-port = 5060", "sip-port = 70000")) == quoted
    howto = " ".join((REPO / "docs" / "howto" / "reload.rst").read_text().split())
    said = error_of(PRIMARY.replace("router-timeout = 10", "router-timeout = soon"))
    assert "``%s``" % said in howto
