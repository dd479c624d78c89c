"""Text that came off the wire, on its way out again.

The SIP parser decodes a message's head as UTF-8 with ``surrogateescape``
(sipredirect/sip/headerblock.py): a byte that is not UTF-8 (a Latin-1 display
name from an old gateway) is kept as a lone surrogate U+DC80..U+DCFF, so
the 302 can carry it back byte for byte.  Such text cannot be encoded as
strict UTF-8; every place that sends it elsewhere says here how:

* to routers (JSON, docs/router-protocol.rst): :func:`escape_text`, a
  backslash escape that is unambiguous and reversible (:func:`unescape_text`);
* to Redis (binary-safe): :func:`wire_bytes`, the very bytes that came in;
* to the log: :func:`log_text` (by way of :class:`sipredirect.safelog.Logger`,
  the logger every module uses), so a log line never fails to be written
  (twistd's log file encodes strict UTF-8).
"""

import codecs
import re

# A lone surrogate: U+DC80..U+DCFF stands for a byte that was not UTF-8
# (the parser decodes with "surrogateescape"); others can only come from
# a router's own JSON ("\ud800").
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match):
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return "\\x%02x" % (code - 0xDC00)
    return "\\u%04x" % code


def escape_text(text):
    """``text`` as it goes to routers: a backslash doubled, a byte that was
    not UTF-8 (a surrogate U+DC80..U+DCFF, how the SIP parser keeps it) as
    ``\\xhh``, any other lone surrogate as ``\\uhhhh``.

    Unambiguous and reversible (:func:`unescape_text`), and the identity on
    text with neither a backslash nor such bytes, which is nearly all of it.
    """
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    return _SURROGATE.sub(_escape_surrogate, text)


def log_text(text):
    """``text`` as it goes into a log line: each byte that was not UTF-8 as
    ``\\xhh``, any other lone surrogate as ``\\uhhhh``; everything else,
    backslashes included, as it is, so that ordinary text reads in the log
    exactly as before.  (Not reversible like :func:`escape_text`: a log is
    read, not parsed back.)"""
    if _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(_escape_surrogate, text)


# What log_text writes for a byte that was not UTF-8 or a lone surrogate:
# only those forms (a Call-ID may hold a backslash of its own).
_LOGGED = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])|\\u([dD][89a-fA-F][0-9a-fA-F]{2})")


def _unlog_one(match):
    byte, code = match.groups()
    return chr(0xDC00 + int(byte, 16)) if byte is not None else chr(int(code, 16))


def text_from_log(text):
    """The text a :func:`log_text` line may stand for: an operator copies a
    Call-ID from the log (``abc\\xe9``) and asks ``sipredirect-ctl
    explain`` for it.  Not an inverse (a log is not reversible): a second
    guess, tried when the text as given is not known."""
    if "\\" not in text:
        return text
    return _LOGGED.sub(_unlog_one, text)


_ESCAPE = re.compile(r"\\(?:\\|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))")


def _unescape_one(match):
    byte, code = match.groups()
    if byte is not None:
        return chr(0xDC00 + int(byte, 16)) if int(byte, 16) >= 0x80 else chr(int(byte, 16))
    if code is not None:
        return chr(int(code, 16))
    return "\\"


def unescape_text(text):
    """The inverse of :func:`escape_text`: a router written in Python gets
    the server's own text back (bytes that were not UTF-8 as surrogates;
    ``text.encode("utf-8", "surrogateescape")`` gives the wire bytes)."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(_unescape_one, text)


def wire_bytes(text):
    """``text`` as bytes: UTF-8, with each byte the parser kept as a
    surrogate given back as itself, and any other lone surrogate (only a
    router's JSON can make one) in UTF-8's surrogate form.  Never fails."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "sipredirect.wire")


def _wire_error(error):
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = bytearray()
    for ch in error.object[error.start:error.end]:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(code - 0xDC00)
        else:
            out += ch.encode("utf-8", "surrogatepass")
    return bytes(out), error.end


codecs.register_error("sipredirect.wire", _wire_error)
