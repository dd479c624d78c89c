"""The value types of the option tables: each turns the text of one INI
value into the value the server runs with, or raises ValueError saying
what is wrong (:mod:`sipredirect.config` adds file, section and option).

``parse_networks`` and ``parse_call_memory`` live with the code that uses
their values (:mod:`sipredirect.limits`, :mod:`sipredirect.redislink`);
they are named here so that every type of the tables is found in one
place."""

import ipaddress
import re

from ..limits import parse_networks
from ..redislink.address import parse_call_memory
from ..sip.errors import SipParseError
from ..sip.uri import parse_sip_uri

__all__ = [
    "parse_bool", "parse_call_memory", "parse_dns_servers", "parse_name_resolution", "parse_dotted_name", "parse_drain_answer",
    "parse_endpoint", "parse_float", "parse_host", "parse_host_names", "parse_int",
    "parse_ip_address", "parse_ip_port", "parse_networks", "parse_role", "parse_sip_uri_list", "parse_str", "parse_words"]


def parse_int(text):
    try:
        return int(text, 10)
    except ValueError:
        raise ValueError("not a whole number") from None


def parse_float(text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return value


_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}


def parse_bool(text):
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("not a boolean (use yes/no, true/false, on/off, 1/0)")


def parse_name_resolution(text):
    """``resolve-sip-address``: no, yes (A record) or rfc3263; the boolean
    spellings of no and yes are kept from when it was a boolean."""
    lowered = text.lower()
    if lowered in _TRUE:
        return "yes"
    if lowered in _FALSE:
        return "no"
    if lowered == "rfc3263":
        return lowered
    raise ValueError("must be no, yes (A record) or rfc3263 (NAPTR, SRV, A/AAAA)")


def parse_str(text):
    return text


def parse_ip_address(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def parse_host(text):
    """An IP address (normalised) or a DNS host name (lower case), which
    the start resolves once (:mod:`sipredirect.sipaddress`)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.lower().rstrip(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label)
                                               for label in name.split(".")):
        raise ValueError("not an IP address or host name")
    return name


def parse_ip_port(text):
    """``ADDRESS[:PORT]`` or ``[IPv6][:PORT]`` -> (address, port or None)."""
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError("expected [IPv6]:PORT")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError("expected IP-ADDRESS[:PORT] (a literal address)") from None
    if port is not None:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError("the port must be 1 to 65535")
        port = int(port)
    return host, port


def parse_dns_servers(text):
    """``IP[:PORT], ...`` -> [(IP, port)], port 53 by default."""
    servers = []
    for item in parse_words(text):
        try:
            host, port = parse_ip_port(item)
        except ValueError as e:
            raise ValueError("%r: %s" % (item, e)) from None
        servers.append((host, 53 if port is None else port))
    return servers


def parse_words(text):
    return [w.strip().lower() for w in text.replace(",", " ").split() if w.strip()]


def parse_sip_uri_list(text):
    result = []
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            result.append(parse_sip_uri(item))
        except SipParseError as e:
            raise ValueError("%r is not a SIP URI (%s)" % (item, e.reason)) from None
    return result


def parse_host_names(text):
    names = []
    for name in parse_words(text):
        name = name.rstrip(".")
        if not name or any(ch in name for ch in "/@:[]") and not _is_ipv6(name):
            raise ValueError("%r is not a host name or address (no port, no URL)"
                             % name)
        names.append(name)
    return names


def _is_ipv6(text):
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def parse_dotted_name(text):
    if text and text != "http" and ":" not in text:
        raise ValueError("expected package.module:ClassName (or http)")
    return text


def parse_endpoint(text):
    if not text:
        return text
    if ":" not in text:
        raise ValueError("not a Twisted endpoint string (e.g. tcp:3000:interface=127.0.0.1)")
    return text


def parse_role(text):
    if text not in ("primary", "backup"):
        raise ValueError("must be primary or backup")
    return text


def parse_drain_answer(text):
    if text not in ("503", "302"):
        raise ValueError("must be 503 or 302")
    return int(text)
