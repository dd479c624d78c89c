"""docs/router-protocol.rst against the code (issue 23, "Done when").

The page is written by hand for router authors, so these tests read the
names it must cover from the code itself: the link's request dispatch
table, the ErrorCode table, every event the server builds with its
attributes and Extensions keys (read from the source), and the reference
router's own tables. A name added there without a word on the page fails
here, naming it.
"""

import ast
import re
from pathlib import Path

from twisted.internet.task import Clock

from sipredirect.policy import Policy
from sipredirect.routerlink.link import RouterLink
from sipredirect.routerlink.messages import ErrorCode
from sipredirect.urs.client import RouterClientProtocol

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "router-protocol.rst"
PACKAGE = ROOT / "sipredirect"
# The attributes of EventRouteRequest are built by the attribute mapper,
# not where the event is made (it is handed over as a callable).
MAPPER = ("callmodel/mapping.py", "AttributeMapper")
# The envelope every event gets (sequence number, time of sending).
TRACER = ("trace.py", "EventTracer")
ATTRIBUTE = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")


def page():
    return PAGE.read_text(encoding="utf-8")


def documented(name, text):
    """Written as a literal on the page: ``Name`` or ``Extensions.Name``."""
    return re.search(r"``(?:Extensions\.|UserData\.)?%s(?:``|: )" % re.escape(name), text)


def modules(exclude=("urs",)):
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] not in exclude:
            yield relative.as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def string_constants(tree):
    """Module-level NAME = "text" assignments (hops.py's CHAIN_KEY)."""
    constants = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def key_of(node, constants):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def attribute_keys(function, constants):
    """The attribute names ``function`` writes: keys of its dict literals
    and of its ``x["Key"] = ...`` assignments, CapWords only (counters
    and other dicts use lower case)."""
    keys = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Dict):
            keys.update(key_of(k, constants) for k in node.keys if k is not None)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                targets = target.elts if isinstance(target, ast.Tuple) else [target]
                keys.update(key_of(t.slice, constants) for t in targets
                            if isinstance(t, ast.Subscript))
    return {key for key in keys if key and ATTRIBUTE.match(key)}


def event_calls(function):
    """Names of the events ``function`` builds: ``x.event("EventName", ...)``."""
    for node in ast.walk(function):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "event" and node.args
                and isinstance(node.args[0], ast.Constant)
                and str(node.args[0].value).startswith("Event")):
            yield node.args[0].value


def functions(tree):
    return [node for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def class_named(tree, name):
    return next(node for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef) and node.name == name)


def server_events():
    """{event name: where it is built} and {attribute: where it is written}
    for every event the server sends."""
    events, attributes = {}, {}
    for relative, tree in modules():
        constants = string_constants(tree)
        for function in functions(tree):
            names = set(event_calls(function))
            for name in names:
                events.setdefault(name, "%s:%d" % (relative, function.lineno))
            if names:
                for key in attribute_keys(function, constants):
                    attributes.setdefault(key, "%s:%d" % (relative, function.lineno))
        for path, class_name in (MAPPER, TRACER):
            if relative == path:
                owner = class_named(tree, class_name)
                for key in attribute_keys(owner, constants):
                    attributes.setdefault(key, "%s %s" % (relative, class_name))
    return events, attributes


def test_the_source_scan_finds_the_known_events_and_attributes():
    """Guards the scan itself: were it to find nothing, the tests below
    would pass for nothing."""
    events, attributes = server_events()
    assert {"EventServerInfo", "EventError", "EventRouteRequest", "EventRouteUsed",
            "EventAbandoned", "EventDestinationState"} <= set(events)
    assert {"ErrorCode", "ConnID", "RoutePointChain", "RouteSource", "RerouteCount",
            "EventSequenceNumber", "TimeinuSecs", "ANI"} <= set(attributes)


def test_every_request_the_link_dispatches_is_on_the_page():
    link = RouterLink(Policy(), Clock())
    requests = sorted(link._handlers)
    assert len(requests) >= 6
    text = page()
    missing = [name for name in requests if not documented(name, text)]
    assert missing == [], "requests of routerlink/link.py not in docs/router-protocol.rst"


def test_every_event_the_server_sends_is_on_the_page():
    events, _ = server_events()
    text = page()
    missing = {name: where for name, where in events.items() if not documented(name, text)}
    assert missing == {}, "events not in docs/router-protocol.rst"


def test_every_attribute_and_extensions_key_the_server_sends_is_on_the_page():
    _, attributes = server_events()
    text = page()
    missing = {name: where for name, where in attributes.items()
               if not documented(name, text)}
    assert missing == {}, "attributes not in docs/router-protocol.rst"


def error_table(text):
    """{code: meaning} from the page's ErrorCode table."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"ErrorCode\s+meaning", line))
    rows, code = {}, None
    for line in lines[start + 2:]:
        if line.startswith("="):
            break
        match = re.match(r"(\d+)\s+(.*)", line)
        if match:
            code = int(match.group(1))
            rows[code] = match.group(2)
        elif code is not None:
            rows[code] += " " + line.strip()
    return rows


def test_the_error_code_table_is_the_codes_table():
    codes = {value for name, value in vars(ErrorCode).items() if not name.startswith("_")}
    rows = error_table(page())
    assert sorted(rows) == sorted(codes)
    assert all(meaning.strip() for meaning in rows.values())


def test_the_reference_router_speaks_only_documented_names():
    """The events the reference router handles are events the server sends,
    and the requests it sends are requests the link dispatches; all are on
    the page."""
    client = RouterClientProtocol("doc", clock=Clock())
    handled = set(client._handlers)
    events, _ = server_events()
    assert handled <= set(events)
    sent = set()
    for relative, tree in modules(exclude=()):
        if relative.startswith("urs/"):
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == "send_request" and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    sent.add(node.args[0].value)
    link = RouterLink(Policy(), Clock())
    assert sent and sent <= set(link._handlers)
    text = page()
    assert [name for name in sorted(handled | sent) if not documented(name, text)] == []


def read_names(tree, constants):
    """The attribute names a module reads from a router's request:
    ``string_attribute(message, "Name", ...)``, ``x["Name"]`` read,
    ``"Name" in x`` and ``x.get("Name")``, CapWords (or SIP_*) only."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "string_attribute"
                    and len(node.args) >= 2):
                names.add(key_of(node.args[1], constants))
            elif isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
                names.add(key_of(node.args[0], constants))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            names.add(key_of(node.slice, constants))
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In) for op in node.ops):
            names.add(key_of(node.left, constants))
    return {name for name in names if name and ATTRIBUTE.match(name)}


def test_every_attribute_the_link_reads_from_routers_is_on_the_page():
    """The other direction: each attribute the server side of the link
    reads from a router's request (ThisDN, OtherDN, Location, Duration,
    Extensions.SIP_RESPONSE_CODE ...) is described for router authors."""
    read = {}
    for relative, tree in modules():
        if relative.startswith("routerlink/"):
            for name in read_names(tree, string_constants(tree)):
                read.setdefault(name, relative)
    assert {"ThisDN", "OtherDN", "Location", "ConnID", "ReferenceID", "Password",
            "ClientName", "Duration", "DestinationState", "Extensions"} <= set(read)
    text = page()
    missing = {name: where for name, where in read.items() if not documented(name, text)}
    assert missing == {}, "attributes read from routers, not in docs/router-protocol.rst"
