"""The logger every module of sipredirect uses: twisted.logger's own, with
text that came from a peer made writable on its way into the event.

A SIP message's head is decoded with ``surrogateescape`` (a Latin-1 display
name keeps its byte as a lone surrogate), and a router's or a web service's
JSON may hold ``"\\udc80"``.  Such text cannot be encoded as strict UTF-8,
which is what twistd's log file (``twisted.python.logfile.LogFile``) and a
UTF-8 stdout do: the observer raises, the line is lost and Twisted logs
"Temporarily disabling observer" instead.  Rather than escape each of the
hundred-odd log calls' fields where they are written, :meth:`Logger.emit`,
which every level and ``failure`` go through, escapes them all with
:func:`sipredirect.wiretext.log_text`: one rule, no call forgotten, and no
work on a path that does not log.
"""

from twisted.logger import Logger as _TwistedLogger
from twisted.python.failure import Failure
from twisted.python.reflect import safe_str

from .wiretext import log_text

__all__ = ["Logger", "log_value"]


class _EscapedError:
    """Stands in for an exception whose message quotes peer text: Twisted
    prints a failure's value with ``str``, and the type is kept apart."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def _failure(failure):
    """``failure``, or a shallow copy whose value prints escaped (the
    caller's Failure is left as it is: errbacks may still look at it)."""
    text = safe_str(failure.value)
    escaped = log_text(text)
    if escaped is text:
        return failure
    clean = Failure.__new__(Failure)
    clean.__dict__.update(failure.__dict__)
    clean.value = _EscapedError(escaped)
    return clean


def log_value(value):
    """``value`` as a field of a log event: text escaped
    (:func:`~sipredirect.wiretext.log_text`), a failure whose message
    holds peer text copied with that message escaped, any other object
    that prints such text replaced by its escaped text; everything else
    (nearly every value) is itself."""
    if type(value) is str:
        return log_text(value)
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, Failure):
        return _failure(value)
    try:
        text = str(value)
    except Exception:
        return value  # Twisted's formatter says it could not format it
    escaped = log_text(text)
    return value if escaped is text else escaped


class Logger(_TwistedLogger):
    """``twisted.logger.Logger`` whose events never hold a lone surrogate."""

    def emit(self, level, format=None, **kwargs):
        if format is not None:
            format = log_text(format)
        for key, value in kwargs.items():
            kwargs[key] = log_value(value)
        _TwistedLogger.emit(self, level, format, **kwargs)
