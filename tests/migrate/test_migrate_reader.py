"""Reading a Genesys options export and a DN list: what is read, and the
error (file, line, what is wrong) for input that cannot be read whole."""

import pytest

from sipredirect.migrate.reader import (InputError, Origin, decode, parse_dn_list,
                                        parse_export)


def test_export_options_keep_section_line_and_text():
    text = "; exported by Configuration Manager\n[TServer]\nsip-port=5060\n\n[extensions]\nFrom:tag=\n"
    options = parse_export(text, "app.cfg")
    assert [(o.section, o.name, o.value) for o in options] == [
        ("TServer", "sip-port", "5060"), ("Extensions", "From:tag", "")]
    assert options[0].origin == Origin("app.cfg", 3, "[TServer] sip-port=5060")
    assert str(options[1].origin) == "app.cfg, line 6: [Extensions] From:tag="


@pytest.mark.parametrize("text, line, reason", [
    ("[TServer]\nsip-port 5060\n", 2, "options are written option=value"),
    ("sip-port=5060\n", 1, "comes before any [section]"),
    ("[TServer]\nsip-port=1\n[Annex]\nx=1\n", 3, "unknown section [Annex]"),
    ("[TServer]\nsip-port=1\nsip-port=2\n", 3, "given twice in [TServer]"),
    ("[TServer]\nsip-port=1\n[tserver]\nrouter-timeout=2\n", 3, "section [TServer] is given twice"),
    ("[TServer\nsip-port=1\n", 1, "as a [section] heading"),
])
def test_a_malformed_export_names_file_line_and_fault(text, line, reason):
    with pytest.raises(InputError) as caught:
        parse_export(text, "app.cfg")
    assert caught.value.line == line
    assert reason in caught.value.reason
    assert str(caught.value).startswith("app.cfg, line %d: " % line)


def test_an_export_without_options_is_refused():
    with pytest.raises(InputError, match="holds no option"):
        parse_export("; nothing\n", "empty.cfg")


def test_non_utf8_names_the_line_of_the_first_bad_byte():
    with pytest.raises(InputError) as caught:
        decode(b"[TServer]\nsip-port=5060\ncustomer-id=caf\xe9\n", "app.cfg")
    assert caught.value.line == 3 and "not UTF-8" in caught.value.reason


def test_a_byte_order_mark_is_not_part_of_the_first_line():
    assert parse_export(decode(b"\xef\xbb\xbf[TServer]\nsip-port=1\n", "a"), "a")[0].name == "sip-port"


def test_dn_list_columns_by_name_in_any_order_with_three_state_options():
    text = ("# the switch's DNs\nType,Number,Use Override,Options\n"
            "Trunk,t1,,\"contact=10.0.0.5:5060;prefix=ERP1,ERP9;replace-prefix=\"\n"
            "Extension,9001,sip:9001@10.0.0.5,\n"
            "Trunk,t2,,contact=<sip:10.0.0.6;transport=tcp>;oosp-transfer-enabled=true\n")
    rows = parse_dn_list(text, "dns.csv")
    assert [(r.number, r.type, r.use_override) for r in rows] == [
        ("t1", "Trunk", ""), ("9001", "Extension", "sip:9001@10.0.0.5"), ("t2", "Trunk", "")]
    assert rows[0].options == (("contact", "10.0.0.5:5060"), ("prefix", "ERP1,ERP9"),
                               ("replace-prefix", ""))
    assert rows[2].option_map["contact"] == "<sip:10.0.0.6;transport=tcp>"
    assert rows[0].origin.line == 3


@pytest.mark.parametrize("text, line, reason", [
    ("number,kind\n8001,Routing Point\n", 1, "unknown column 'kind'"),
    ("number,options\n8001,\n", 1, "names no 'type' column"),
    ("number,type\n8001,Routing Point,extra\n", 2, "3 fields where the first row names 2"),
    ("number,type\n8001,\n", 2, "needs a number and a type"),
    ("number,type\n8001,Routing Point\n8001,Routing Point\n", 3, "listed twice"),
    ("number,type,options\nt,Trunk,contact\n", 2, "cannot read DN option 'contact'"),
    ("number,type\n\"8001,Routing Point\n", 2, "not a CSV row"),
])
def test_a_dn_list_with_wrong_columns_or_rows_names_the_line(text, line, reason):
    with pytest.raises(InputError) as caught:
        parse_dn_list(text, "dns.csv")
    assert caught.value.line == line
    assert reason in caught.value.reason
