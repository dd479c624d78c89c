"""``sipredirect-router`` / ``python -m sipredirect.urs``: the reference
router, a URS stand-in that routes sipredirect's calls from a rules file.

Everything is checked before the reactor starts, so a typo in the rules
file ends the program at once with one line naming the file, section,
option and value, and exit status 78 (EX_CONFIG), as the server does.
"""

import argparse
import sys

from twisted.application import service
from twisted.internet.endpoints import clientFromString
from twisted.logger import (FilteringLogObserver, LogLevel, LogLevelFilterPredicate,
                            globalLogBeginner, textFileLogObserver)

from .. import __version__, gctuning
from ..safelog import Logger
from ..secretfiles import SecretFileError, read_secret_file
from .client import DEFAULT_KEEPALIVE, RouterConnections
from .rules import RulesError, parse_rules
from .stats import RouterStats, StatsFileService

EX_CONFIG = 78
DEFAULT_NAME = "urs-1"

log = Logger()


def build_parser():
    parser = argparse.ArgumentParser(
        prog="sipredirect-router",
        description="Reference router for sipredirect: connects to each server's "
                    "router link, registers DNs and answers EventRouteRequest "
                    "from a rules file.")
    parser.add_argument("--server", action="append", required=True, metavar="ENDPOINT",
                        help="a server's router link as a Twisted client endpoint, "
                             "e.g. tcp:127.0.0.1:3000; repeat for the backup")
    parser.add_argument("--rules", required=True, metavar="FILE",
                        help="the rules file (INI)")
    parser.add_argument("--name", help="ClientName to register (default: [router] "
                        "name, else %s)" % DEFAULT_NAME)
    parser.add_argument("--password", help="Password for RequestRegisterClient (it "
                        "shows in the process list: prefer --password-file)")
    parser.add_argument("--password-file", metavar="FILE",
                        help="read the password from this file (its first line, "
                             "without the line end): the server's [router] password-file")
    parser.add_argument("--dn", action="append", metavar="DN",
                        help="a DN to register; repeat for more (default: [router] "
                             "dns, else *)")
    parser.add_argument("--keepalive", type=_positive_float, metavar="SECONDS",
                        help="seconds between RequestQueryServer keep-alives "
                             "(default: [router] keepalive, else %g)" % DEFAULT_KEEPALIVE)
    parser.add_argument("--stats-file", metavar="PATH",
                        help="keep counters in this JSON file (rewritten atomically, "
                             "at most once a second, and at exit)")
    parser.add_argument("--log-file", metavar="PATH", default=None,
                        help="log here; - for standard output (default: standard error)")
    parser.add_argument("--debug", action="store_true", help="log debug messages too")
    parser.add_argument("--version", action="version", version="%(prog)s " + __version__)
    return parser


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text) from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number: %r" % text)
    return value


def load_rules(path):
    """Read and parse the rules file; a missing or unreadable file is a
    :class:`RulesError` like any other problem in it."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise RulesError("cannot read it (%s)" % (getattr(e, "strerror", None) or e),
                         path) from None
    return parse_rules(text, path)


def read_password_file(path):
    """The password in ``path`` (the file the server's ``[router]
    password-file`` names, read the same way); a ValueError saying what is
    wrong with the file otherwise."""
    try:
        return read_secret_file(path).decode("utf-8")
    except SecretFileError as e:
        raise ValueError("--password-file: %s" % e) from None
    except UnicodeDecodeError:
        raise ValueError("--password-file %s is not UTF-8 text" % path) from None


def settings_from(args, rules):
    """Command-line options over ``[router]`` over built-in defaults."""
    name = args.name or rules.settings.name or DEFAULT_NAME
    dns = tuple(args.dn) if args.dn else (rules.settings.dns or ("*",))
    keepalive = args.keepalive or rules.settings.keepalive or DEFAULT_KEEPALIVE
    return name, dns, keepalive


def build_service(args, rules, reactor):
    """The whole router as one service: the stats file writer (stopped
    last, so its final write sees every link closed) and the links."""
    name, dns, keepalive = settings_from(args, rules)
    stats = RouterStats(name)
    servers = []
    for description in args.server:
        servers.append((description, clientFromString(reactor, description)))
    top = service.MultiService()
    if args.stats_file:
        StatsFileService(stats, args.stats_file, reactor).setServiceParent(top)
    RouterConnections(servers, name, dns, args.password, rules.decide, reactor, keepalive,
                      stats).setServiceParent(top)
    return top


def start_logging(path, debug=False):
    if path is None:
        stream = sys.stderr
    elif path == "-":
        stream = sys.stdout
    else:
        stream = open(path, "a", encoding="utf-8", buffering=1)
    level = LogLevel.debug if debug else LogLevel.info
    observer = FilteringLogObserver(textFileLogObserver(stream),
                                    [LogLevelFilterPredicate(defaultLogLevel=level)])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def main(argv=None, reactor=None):
    """Parse, validate, run until SIGINT/SIGTERM; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(set(args.server)) != len(args.server):
        parser.error("the same --server is given twice")
    if args.password_file is not None:
        if args.password is not None:
            parser.error("give --password or --password-file, not both")
        try:
            args.password = read_password_file(args.password_file)
        except ValueError as e:
            sys.stderr.write("sipredirect-router: %s\n" % e)
            return EX_CONFIG
    try:
        rules = load_rules(args.rules)
    except RulesError as e:
        sys.stderr.write("sipredirect-router: rules error: %s\n" % e)
        return EX_CONFIG
    if reactor is None:
        # The global reactor only when none is injected (tests pass a Clock).
        from twisted.internet import reactor
    try:
        top = build_service(args, rules, reactor)
    except (ValueError, TypeError, KeyError) as e:
        # clientFromString's complaint about an endpoint string.
        parser.error("bad --server endpoint: %s" % e)
    try:
        start_logging(args.log_file, args.debug)
    except OSError as e:
        parser.error("cannot open --log-file: %s" % e)
    name, dns, keepalive = settings_from(args, rules)
    log.info("sipredirect-router {version} as {name}: {count} rules from {rules},"
             " DNs {dns}, servers {servers}", version=__version__, name=name,
             count=len(rules.rules), rules=args.rules, dns=",".join(dns),
             servers=" ".join(args.server))
    # The reactor's own SIGINT/SIGTERM handlers stop it; stopping the
    # services in a shutdown trigger closes the links and writes the final
    # stats file before the process exits.
    reactor.callWhenRunning(top.startService)
    # Its answers wait behind the collector's pauses as the server's do.
    reactor.callWhenRunning(gctuning.settle)
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)
    reactor.run()
    return 0
