"""``sipredirect-ctl``: status, drain, reload, switchover and explain, over
the management endpoint of a running server.

Plain blocking HTTP: this is a command-line tool, not part of the server.
"""

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from ..config import ConfigError, load_config
from ..wiretext import log_text
from .token import TokenError, read_token

DEFAULT_URL = "http://127.0.0.1:9060"


class CtlError(Exception):
    """Anything that stops a command: unreachable server, refused command."""


def url_from_endpoint(endpoint):
    """``tcp:9060:interface=127.0.0.1`` -> ``http://127.0.0.1:9060``."""
    parts = re.split(r"(?<!\\):", endpoint)  # "\:" is an escaped colon
    if len(parts) < 2 or parts[0] not in ("tcp", "tcp6") or not parts[1].isdigit():
        raise CtlError("cannot reach a management endpoint %r over HTTP (only "
                       "tcp:PORT[:interface=ADDRESS] is understood)" % endpoint)
    host = "127.0.0.1" if parts[0] == "tcp" else "::1"
    for part in parts[2:]:
        key, _, value = part.partition("=")
        if key == "interface" and value:
            host = value.replace("\\:", ":")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1" if parts[0] == "tcp" else "::1"
    if ":" in host:
        host = "[%s]" % host
    return "http://%s:%s" % (host, parts[1])


def _load(path):
    try:
        return load_config(path)
    except ConfigError as e:
        raise CtlError(str(e)) from None


def url_from_config(path):
    config = _load(path)
    if not config.management.endpoint:
        raise CtlError("%s: [management] endpoint is empty: the server has no "
                       "management endpoint" % path)
    return url_from_endpoint(config.management.endpoint)


def token_file_from_config(path):
    """The token file that the INI ``path`` names (relative to its directory)."""
    token_file = _load(path).management.token_file
    if not token_file:
        raise CtlError("%s: [management] token-file is empty: the server accepts no "
                       "command without an API token (name a token file there and "
                       "restart it)" % path)
    return token_file


def read_token_file(path):
    """The token, or a CtlError that says which file could not be used."""
    try:
        return read_token(path).decode("ascii")
    except TokenError as e:
        raise CtlError("%s (it is created by the server when it starts; run "
                       "sipredirect-ctl as a user who may read it)" % e) from None


class Client:
    """The management endpoint at ``base``; ``token`` is sent with every
    request (``Authorization: Bearer``)."""

    def __init__(self, base, timeout=10.0, token=None):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.token = token

    def call(self, method, path, query=None):
        """(HTTP status, decoded JSON body)."""
        url = self.base + path
        if query:
            # A Call-ID given with bytes that are not UTF-8 (the shell hands
            # them over as surrogates) goes out as those very bytes.
            url += "?" + urllib.parse.urlencode(query, errors="surrogateescape")
        headers = {"X-Sipredirect-Ctl": "1"} if method == "POST" else {}
        if self.token is not None:
            headers["Authorization"] = "Bearer " + self.token
        request = urllib.request.Request(url, method=method, headers=headers,
                                         data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, _decode(response.read())
        except urllib.error.HTTPError as e:
            return e.code, _decode(e.read())
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise CtlError("cannot reach %s (%s)" % (self.base, reason)) from None


def _decode(data):
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return {"raw": data.decode("utf-8", "replace")}


def _print(body):
    print(json.dumps(body, indent=2, default=str))


def explain_text(call_id, decisions):
    """A human reading of the decision records of one Call-ID."""
    lines = []
    for record in decisions:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.get("time", 0)))
        head = "%s  %s  answered %s (%s)" % (when, call_id, record.get("status"),
                                          record.get("why"))
        lines.append(head)
        if "routing_point" in record:
            lines.append("  routing point %s (chosen by %s), ConnID %s, re-route #%s"
                         % (record["routing_point"], record.get("selected_by"),
                            record.get("conn_id"), record.get("reroute_count", 0)))
        for step in record.get("steps", ()):
            text = "  asked %s: %s after %s ms" % (step["service"], step["result"],
                                                   step.get("ms"))
            if step.get("why"):
                text += " (%s)" % step["why"]
            lines.append(text)
        if record.get("route_source"):
            by = record["route_source"]
            if record.get("router"):
                by += " %s" % record["router"]
            lines.append("  decided by %s" % by)
        if record.get("skipped"):
            lines.append("  skipped (already tried): %s" % ", ".join(record["skipped"]))
        for contact in record.get("contacts", ()):
            lines.append("  Contact: %s" % contact)
        if "latency_ms" in record:
            lines.append("  answered %s ms after the INVITE" % record["latency_ms"])
    return "\n".join(lines)


def destinations_text(body):
    """``sipredirect-ctl destinations``: one line per destination; an RFC
    3263 target says which name it came from (FROM: the name, SRV priority
    and weight)."""
    rows = [("DESTINATION", "STATE", "WEIGHT", "MAX-CPS", "LAST PROBE", "LATENCY",
             "CALLS", "SKIPPED", "FROM")]
    for d in body.get("destinations", ()):
        state = d["state"]
        if d.get("targets_down"):
            state += " (every target down)"
        if d.get("marked"):
            state += " (marked%s)" % (" until %s" % time.strftime(
                "%H:%M:%S", time.localtime(d["marked_until"]))
                if d.get("marked_until") else "")
        probe = d.get("last_probe") or ("-" if d.get("probed") else "not probed")
        latency = d.get("last_probe_latency_ms")
        rows.append((d["destination"], state, str(d["weight"]),
                     "%g" % d["max_cps"] if d.get("max_cps") else "-", probe,
                     "%.1f ms" % latency if latency is not None else "-",
                     str(d["calls"]),
                     "%d down, %d limit" % (d.get("skipped_down", 0),
                                            d.get("skipped_limit", 0)),
                     ", ".join("%s (SRV %s %s)" % (origin["name"], origin["priority"],
                                                   origin["weight"])
                               for origin in d.get("from", ())) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    lines.append("all-destinations-down = %s" % body.get("all_destinations_down"))
    return "\n".join(lines)


#: Commands that are one request and print its answer (method by command).
SIMPLE_COMMANDS = {"status": "GET", "resume": "POST", "reload": "POST",
                   "switchover": "POST"}


def run(args):
    base = args.url or (url_from_config(args.config) if args.config else DEFAULT_URL)
    token_file = args.token_file
    if token_file is None and args.config:
        token_file = token_file_from_config(args.config)
    if token_file is None:
        raise CtlError("no API token: give --config FILE (its [management] token-file "
                       "is read) or --token-file FILE")
    client = Client(base, timeout=args.timeout, token=read_token_file(token_file))
    command = args.command
    if command in SIMPLE_COMMANDS:
        # Print the server's answer; the exit status says whether it agreed.
        query = {"force": "yes"} if getattr(args, "force", False) else None
        code, body = client.call(SIMPLE_COMMANDS[command], "/" + command, query)
        _print(body)
        return 0 if code == 200 else 1
    if command == "drain":
        code, body = client.call("POST", "/drain")
        if code != 200:
            raise CtlError("drain refused (%s): %s" % (code, body))
        if args.wait is not None:
            deadline = time.monotonic() + args.wait
            while not body.get("drained"):
                if time.monotonic() > deadline:
                    _print(body)
                    raise CtlError("still %s INVITEs in flight after %ss"
                                   % (body.get("invites_in_flight"), args.wait))
                time.sleep(0.2)
                code, body = client.call("GET", "/drain")
        _print(body)
        return 0
    if command == "destinations":
        code, body = client.call("GET", "/destinations")
        if code != 200:
            raise CtlError("destinations failed (%s): %s" % (code, body))
        if args.json:
            _print(body)
        else:
            print(log_text(destinations_text(body)))
        return 0
    if command == "destination":
        query = {"uri": args.uri, "state": args.state}
        if args.for_seconds is not None:
            query["for"] = "%g" % args.for_seconds
        code, body = client.call("POST", "/destination", query)
        _print(body)
        return 0 if code == 200 else 1
    if command == "explain":
        code, body = client.call("GET", "/explain", {"call-id": args.call_id})
        if code == 404:
            raise CtlError("no decision for Call-ID %s (not kept in memory, and not in "
                           "the decision log)" % log_text(args.call_id))
        if code != 200:
            raise CtlError("explain failed (%s): %s" % (code, body))
        if args.json:
            _print(body)
        else:
            # Bytes of the call that were not UTF-8 come as "\udcXX" in the
            # JSON: printed as \xhh, as the log shows them.
            print(log_text(explain_text(args.call_id, body.get("decisions", []))))
        return 0
    raise CtlError("unknown command %s" % command)


def build_parser():
    """The command line, also read by the docs build for the manual page."""
    parser = argparse.ArgumentParser(
        prog="sipredirect-ctl",
        description="Operate a running sipredirect server through its management "
                    "endpoint ([management] endpoint).")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="the management endpoint (default %s)" % DEFAULT_URL)
    where.add_argument("--config", "-c",
                       help="read the endpoint from this INI file's [management]")
    parser.add_argument("--token-file", metavar="FILE",
                        help="the file holding the API token (default: the "
                        "[management] token-file of --config)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for an answer")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="role, readiness, uptime, configuration, routers, "
                   "per routing point counts")
    drain = sub.add_parser("drain", help="stop taking new calls: new INVITEs get the "
                           "drain answer, OPTIONS 503; calls in flight finish")
    drain.add_argument("--wait", type=float, metavar="SECONDS",
                       help="wait until no INVITE is in flight (then the server can "
                       "stop without losing a call)")
    sub.add_parser("resume", help="take new calls again after a drain")
    reload = sub.add_parser("reload", help="reload routing from the configuration "
                            "file (as SIGHUP does); prints what changed and what "
                            "needs a restart")
    reload.add_argument("--force", action="store_true",
                        help="apply a file that is empty or has no routing point and "
                        "no default destination (refused otherwise)")
    sub.add_parser("switchover", help="make the HA peer primary (refused when the peer "
                   "is down)")
    listing = sub.add_parser("destinations", help="every destination: state, weight, "
                             "max-cps, last probe and latency, calls sent")
    listing.add_argument("--json", action="store_true", help="the raw records")
    mark = sub.add_parser("destination", help="mark a destination down or up for a "
                          "while (clear: end the mark; probes decide again)")
    mark.add_argument("state", choices=("down", "up", "clear"))
    mark.add_argument("uri", metavar="URI", help="the destination as configured "
                      "(sip: may be left out)")
    mark.add_argument("--for", dest="for_seconds", type=float, metavar="SECONDS",
                      help="how long the mark lasts (default: until cleared)")
    explain = sub.add_parser("explain", help="why a call got its answer")
    explain.add_argument("call_id", metavar="CALL-ID", help="the Call-ID of the call")
    explain.add_argument("--json", action="store_true", help="the raw decision records")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except CtlError as e:
        print("sipredirect-ctl: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
