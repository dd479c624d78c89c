"""Which form of the sans-IO core this process runs: compiled or pure.

``pip install .`` compiles the core with mypyc on CPython where a C
compiler is there and installs the same modules as pure Python elsewhere
(see ``setup.py``).  The two forms behave alike, so only this module
tells them apart: the server names the form in its start-up log, and
``python -m sipredirect.coreform`` prints it (``--expect compiled`` makes
it a check for CI).
"""

import argparse
import importlib
import sys

# The modules setup.py compiles (tests/test_coreform.py keeps the two
# lists equal).
CORE_MODULES = (
    "sipredirect.actions",
    "sipredirect.core",
    "sipredirect.core.admission",
    "sipredirect.core.identity",
    "sipredirect.core.replyto",
    "sipredirect.core.reporting",
    "sipredirect.core.routingrequests",
    "sipredirect.core.transactions",
    "sipredirect.deadlines",
    "sipredirect.redirect",
    "sipredirect.sip",
    "sipredirect.sip.address",
    "sipredirect.sip.clienttransaction",
    "sipredirect.sip.errors",
    "sipredirect.sip.fastpath",
    "sipredirect.sip.framer",
    "sipredirect.sip.grammar",
    "sipredirect.sip.headerblock",
    "sipredirect.sip.headerchecks",
    "sipredirect.sip.headers",
    "sipredirect.sip.memo",
    "sipredirect.sip.message",
    "sipredirect.sip.parser",
    "sipredirect.sip.responsebytes",
    "sipredirect.sip.startline",
    "sipredirect.sip.transaction",
    "sipredirect.sip.transactiontable",
    "sipredirect.sip.uri",
    "sipredirect.sip.via",
    "sipredirect.values",
)

COMPILED = "compiled"
PURE = "pure"
PARTLY = "partly compiled"


def is_compiled(module):
    """An extension module (mypyc's output) rather than a ``.py`` file."""
    return not module.__file__.endswith(".py")


def core_form(names=CORE_MODULES):
    """:data:`COMPILED`, :data:`PURE` or :data:`PARTLY` (a build tree
    mixed by hand: some modules compiled, some not)."""
    compiled = [is_compiled(importlib.import_module(name)) for name in names]
    if all(compiled):
        return COMPILED
    return PARTLY if any(compiled) else PURE


def describe(form=None):
    """One line for the start-up log: the form and the interpreter."""
    form = core_form() if form is None else form
    what = {COMPILED: "compiled by mypyc", PURE: "pure Python"}.get(form, form)
    return "sans-IO core: %s (%s %s)" % (
        what, sys.implementation.name, ".".join(map(str, sys.version_info[:3])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--expect", choices=(COMPILED, PURE),
                        help="exit 1 unless the core runs in this form")
    args = parser.parse_args(argv)
    form = core_form()
    print(describe(form))
    if args.expect is not None and form != args.expect:
        for name in CORE_MODULES:
            module = importlib.import_module(name)
            print("  %s: %s" % (name, module.__file__), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
