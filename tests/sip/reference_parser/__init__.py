"""The frozen reference implementation of the SIP parser, used as the oracle.

A verbatim copy of ``sipredirect/sip/parser.py`` and the modules it calls
(``address``, ``errors``, ``grammar``, ``headers``, ``memo``, ``message``,
``uri``, ``via``) as they were at commit 485f9a6, before the parser was
made faster.  ``test_parser_equivalence.py`` feeds the same bytes to this
copy and to ``sipredirect.sip`` and requires identical results: the same
messages accepted, the same errors, the same parsed objects.

Do not edit these files to follow changes in ``sipredirect.sip``: the
point of the oracle is that it does not move.  If the parser's behaviour
is changed on purpose, the equivalence test must be changed with it, in
the same commit, saying why.
"""

from .errors import SipParseError
from .parser import parse_message

__all__ = ["SipParseError", "parse_message"]
