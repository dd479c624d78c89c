"""``sipredirect-migrate``: a Genesys Network SIP Server application's
options export and DN list converted into a sipredirect INI file.

The steps, one module each: read the inputs (:mod:`.reader`), map the
options (:mod:`.mapping`, its units in :mod:`.values`) and the DNs
(:mod:`.dnlist`), put them together (:mod:`.convert`, giving a
:class:`~.result.Migration`), write the INI (:mod:`.writer`) and the
report (:mod:`.report`); :mod:`.cli` is the command."""

from .convert import convert
from .reader import InputError, parse_dn_list, parse_export
from .report import render_report
from .result import Migration
from .writer import check_ini, render_ini

__all__ = ["InputError", "Migration", "check_ini", "convert", "parse_dn_list",
           "parse_export", "render_ini", "render_report"]
