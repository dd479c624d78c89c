"""The logger every module uses escapes text that is not UTF-8 (a lone
surrogate, how the SIP parser keeps such a byte) on its way into the
event, so twistd's log file, which encodes strict UTF-8, writes every
line (issue 18's follow-up)."""

import ast
import pathlib

from twisted.logger import LogLevel, formatEvent, textFileLogObserver
from twisted.python.failure import Failure
from twisted.python.logfile import LogFile

import sipredirect
from sipredirect.safelog import Logger, log_value
from sipredirect.wiretext import log_text, text_from_log

PACKAGE = pathlib.Path(sipredirect.__file__).parent


def test_log_text_escapes_only_bytes_that_were_not_utf8():
    plain = "call abc@host: From \"Jos\u00e9\" <sip:a\\b@h>"
    assert log_text(plain) is plain  # identity, backslash and UTF-8 text kept
    assert log_text("Jos\udce9 M\udcfcller") == "Jos\\xe9 M\\xfcller"
    assert log_text("urs\ud800") == "urs\\ud800"  # a router's own "\ud800"
    assert log_text("a\\xe9\udce9") == "a\\xe9\\xe9"  # not reversible: a log is read
    log_text("\udc80\udcff").encode("utf-8")


def test_text_from_log_reads_back_what_log_text_escaped():
    """An operator copies a Call-ID from the log into sipredirect-ctl
    explain: the logged forms stand for the bytes again; a backslash of the
    Call-ID's own, and \\x of a byte under 0x80, stay as they are."""
    text = "Jos\udce9 M\udcfcller urs\ud800"
    assert text_from_log(log_text(text)) == text
    assert text_from_log("a\\b \\x41 \\u00e9") == "a\\b \\x41 \\u00e9"
    plain = "abc@host"
    assert text_from_log(plain) is plain


class Thing:
    """An object that prints peer text (a parse error, a URI)."""

    def __str__(self):
        return "sip:\udce9@host"


def test_log_value_escapes_text_and_what_prints_it_leaves_the_rest_alone():
    address = ("127.0.0.1", 5060)
    error = ValueError("bad header X-\udce9")
    assert log_value(None) is None and log_value(7) == 7 and log_value(2.5) == 2.5
    assert log_value(address) is address  # a tuple prints repr()s: already escaped
    assert log_value(error) == "bad header X-\\xe9"
    clean = ValueError("bad header")
    assert log_value(clean) is clean
    assert log_value(Thing()) == "sip:\\xe9@host"


def events():
    seen = []
    return seen, Logger(namespace="test", observer=seen.append)


def test_every_field_and_the_format_reach_the_event_escaped():
    seen, log = events()
    log.warn("call {call_id}: {error} from {who!r} \udcff", call_id="c\udce9",
             error=ValueError("To \udcc0"), who=Thing(), port=5060)
    event = seen[0]
    assert event["call_id"] == "c\\xe9" and event["port"] == 5060
    assert event["log_level"] is LogLevel.warn and event["log_namespace"] == "test"
    # (!r shows the escaped text's repr, its backslash doubled.)
    assert formatEvent(event) == "call c\\xe9: To \\xc0 from 'sip:\\\\xe9@host' \\xff"


def test_a_failure_quoting_peer_text_is_logged_escaped_and_left_as_it_was():
    seen, log = events()
    try:
        raise ValueError("bad Call-ID c\udce9")
    except ValueError:
        original = Failure()
    log.failure("routing failed for {call_id}", original, call_id="c\udce9")
    logged = seen[0]["log_failure"]
    assert logged is not original and logged.check(ValueError)
    assert "ValueError: bad Call-ID c\\xe9" in logged.getTraceback()
    assert str(original.value) == "bad Call-ID c\udce9"  # errbacks see the real one
    plain = Failure(ValueError("plain"))
    log.failure("x", plain)
    assert seen[1]["log_failure"] is plain


def test_twistd_log_file_writes_every_line(tmp_path):
    """twistd --logfile: textFileLogObserver over a LogFile; before, the
    write raised UnicodeEncodeError and the line was lost."""
    log_file = LogFile.fromFullPath(str(tmp_path / "twistd.log"))
    log = Logger(namespace="test", observer=textFileLogObserver(log_file))
    log.info("call {call_id}: no ACK", call_id="timer-h-\udce9\udcff")
    try:
        raise ValueError("To \udcc0")
    except ValueError:
        log.failure("internal error for {peer}", peer="127.0.0.1")
    log_file.close()
    text = (tmp_path / "twistd.log").read_bytes().decode("utf-8")
    assert "call timer-h-\\xe9\\xff: no ACK" in text
    assert "ValueError: To \\xc0" in text


def test_no_module_logs_through_twisted_logger_directly():
    """One mechanism: every module's Logger is sipredirect.safelog's (the
    decision log's JSON writer, which escapes by itself, names Twisted's
    explicitly as ``logger.Logger``)."""
    direct = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "safelog.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "twisted.logger" \
                    and any(alias.name == "Logger" for alias in node.names):
                direct.append(str(path.relative_to(PACKAGE)))
    assert direct == []
