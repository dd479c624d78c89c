"""``sipredirect-migrate``: a Genesys application's options export (and
the switch's DN list) in, a commented sipredirect INI and a report out.

Exit status (sysexits.h): 0 written (the report lists what was not
carried over); 2 bad command line; 65 (EX_DATAERR) input that cannot be
read as an export or DN list, the file and line named; 66 (EX_NOINPUT)
an input file that cannot be opened; 70 (EX_SOFTWARE) the written INI
does not load (a bug of this command); 73 (EX_CANTCREAT) the output or
report cannot be written, or exists and --force was not given.
"""

import argparse
import os
import sys

from .. import __version__
from ..configerror import ConfigError
from .convert import DEFAULT_ROUTER_ENDPOINT, convert
from .reader import InputError, parse_dn_list, parse_export, read_file
from .report import render_report
from .writer import check_ini, render_ini

EX_OK, EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_CANTCREAT = 0, 65, 66, 70, 73

DESCRIPTION = """\
Convert the options of a Genesys Network SIP Server (or SIP Server)
application, as Configuration Manager exports them ([TServer],
[Extensions], [log], ... with option=value lines), and optionally the
switch's DN list (CSV), into a commented sipredirect INI file. Every option
written names the Genesys option it came from; a report (standard error,
or --report FILE) lists every input line that was not carried over, and
why. The INI is checked with sipredirect's own loader before it is written.
"""

EPILOG = """\
DN list (--dns): a CSV file whose first row names the columns number, type
and optionally options and use-override, e.g.

  number,type,options,use-override
  8001,Routing Point,,
  trunk-premise1,Trunk,contact=10.10.1.5:5060;prefix=ERP1;replace-prefix=;oosp-transfer-enabled=true,
  9001,Extension,,sip:9001@10.10.1.5:5060

Routing Points become [routing-points] lines, Trunks [dn:NAME] trunks, other
DNs with a contact (or an address as Use Override) [dn:NAME] DNs.

exit status: 0 written; 2 bad command line; 65 bad input (file and line
named); 66 input not readable; 70 the written INI does not load (a bug);
73 output not writable, or it exists (--force).

example:
  sipredirect-migrate nss-app.cfg --dns nss-dns.csv --access-code premise1=ERP1 \\
      -o /etc/sipredirect/sipredirect.ini --report migration-report.txt
See docs/migration.rst, "Converting an application with sipredirect-migrate".
"""


def _access_code(text):
    switch, equals, code = text.partition("=")
    if not equals or not switch.strip() or not code.strip() or any(
            ch in code for ch in " \t@;<>") or any(ch in switch for ch in "=[]"):
        raise argparse.ArgumentTypeError("%r is not SWITCH=CODE" % text)
    return switch.strip(), code.strip()


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sipredirect-migrate", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", metavar="EXPORT",
                        help="the application's options as Configuration Manager "
                             "exports them")
    parser.add_argument("--dns", metavar="CSV", help="the switch's DN list (see below)")
    parser.add_argument("--access-code", action="append", type=_access_code, default=[],
                        metavar="SWITCH=CODE",
                        help="the access code of a destination switch (the Switch's "
                             "Access Codes tab); repeat for each switch")
    parser.add_argument("--attribute-mapping", choices=("nss", "sipserver"),
                        help="the EventRouteRequest layout (default: nss, or sipserver "
                             "for an export with [INVITE] and no [Extensions])")
    parser.add_argument("--router-endpoint", default=DEFAULT_ROUTER_ENDPOINT,
                        metavar="ENDPOINT",
                        help="where routers connect, as [router] endpoint (default: "
                             "%(default)s)")
    parser.add_argument("-o", "--output", default="-", metavar="FILE",
                        help="the INI file to write (default: standard output)")
    parser.add_argument("--report", metavar="FILE",
                        help="write the report here (default: standard error)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing output or report file")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    return parser


def _fail(status, message):
    sys.stderr.write("sipredirect-migrate: %s\n" % message)
    return status


def _read(path):
    try:
        return read_file(path)
    except OSError as e:
        raise _NoInput("%s: cannot read the file (%s)" % (path, e.strerror or e)) from None


class _NoInput(Exception):
    pass


def _write(path, text, force):
    mode = "w" if force else "x"
    with open(path, mode, encoding="utf-8") as handle:
        handle.write(text)


def main(argv=None):
    """Convert; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        options = parse_export(_read(args.export), args.export)
        rows = parse_dn_list(_read(args.dns), args.dns) if args.dns else ()
    except _NoInput as e:
        return _fail(EX_NOINPUT, str(e))
    except InputError as e:
        return _fail(EX_DATAERR, str(e))
    switches = [switch for switch, _ in args.access_code]
    if len(set(switches)) != len(switches):
        return _fail(2, "--access-code names a switch twice")
    migration = convert(options, rows, args.access_code, args.attribute_mapping,
                        args.router_endpoint)
    sources = ["%s (application options)" % os.path.basename(args.export)]
    if args.dns:
        sources.append("%s (DN list)" % os.path.basename(args.dns))
    text = render_ini(migration, sources)
    output = "standard output" if args.output == "-" else args.output
    try:
        check_ini(text, output)
    except ConfigError as e:
        return _fail(EX_SOFTWARE, "the converted configuration does not load, please "
                     "report this as a bug of sipredirect-migrate: %s" % e)
    report = render_report(migration, output)
    try:
        if args.output == "-":
            sys.stdout.write(text)
        else:
            _write(args.output, text, args.force)
        if args.report:
            _write(args.report, report, args.force)
    except FileExistsError as e:
        return _fail(EX_CANTCREAT, "%s exists (--force overwrites it)" % e.filename)
    except OSError as e:
        return _fail(EX_CANTCREAT, "%s: cannot write (%s)" % (e.filename, e.strerror))
    if not args.report:
        sys.stderr.write(report)
    return EX_OK


if __name__ == "__main__":
    sys.exit(main())
