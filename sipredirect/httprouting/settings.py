"""``[http-router]`` read into one frozen :class:`HttpRouterSettings`: the
URL, the headers (secrets from files or the environment, so they need not
sit in the INI), TLS, limits, breaker and event batching.

Built with the rest of the configuration (start and every reload), so that
a bad line stops the start or refuses the reload with the file, section,
option and what is wrong; the running service picks the new settings up
from the policy on its next call.
"""

import dataclasses
import os
from typing import Any
from urllib.parse import urlsplit

from ..configerror import ConfigError
from ..routerlink.messages import RouterProtocolError, sip_headers
from ..schema import HTTP_ROUTER_SECTION
from ..secretfiles import SecretFileError, read_secret_file, secret_path
from ..sip.grammar import is_token
from .tls import client_tls


@dataclasses.dataclass(frozen=True)
class HttpRouterSettings:
    """What one configuration says about the HTTP routing service.

    ``timeout`` is in seconds (router-timeout when the option is empty);
    ``headers`` are (name, value) byte pairs sent with every request;
    ``tls`` is the Agent's HTTPS policy (None for http:// URLs only).
    """

    url: str = ""
    timeout: float = 10.0
    headers: tuple = ()
    tls: Any = None
    max_in_flight: int = 64
    max_answer_bytes: int = 65536
    breaker_failures: int = 5
    breaker_open_time: float = 5.0
    route_used_url: str = ""
    batch_interval: float = 0.2
    batch_size: int = 100
    queue_size: int = 10000


def _url(value, option, path):
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("must be an http:// or https:// URL with a host", path,
                          HTTP_ROUTER_SECTION, option, value)
    if any(ord(ch) <= 32 or ord(ch) == 127 for ch in value):
        raise ConfigError("must not contain spaces or control characters", path,
                          HTTP_ROUTER_SECTION, option, value)
    return value


def _lines(text, option, path):
    """``Name: value`` lines -> [(name, value)], names checked."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not is_token(name) or not value:
            raise ConfigError("each line must be 'Name: value' with a header name",
                              path, HTTP_ROUTER_SECTION, option, line[:80])
        pairs.append((name, value))
    return pairs


def _header_value(name, value, option, path, shown):
    # The router link's SIP_HEADERS rules refuse CR, LF and other control
    # characters in a value: the same check keeps a header line whole here.
    try:
        sip_headers({"SIP_HEADERS": "X", "X": value})
    except RouterProtocolError:
        raise ConfigError("the value of %s holds control characters or is too long"
                          % name, path, HTTP_ROUTER_SECTION, option, shown) from None
    return (name.encode("ascii"), value.encode("utf-8"))


def _headers(section, path):
    headers = []
    for name, value in _lines(section.headers, "headers", path):
        headers.append(_header_value(name, value, "headers", path, value))
    for name, file in _lines(section.header_files, "header-files", path):
        try:
            secret = read_secret_file(secret_path(file, path)).decode("utf-8")
        except SecretFileError as e:
            raise ConfigError(str(e), path, HTTP_ROUTER_SECTION, "header-files",
                              file) from None
        except UnicodeDecodeError:
            raise ConfigError("%s is not UTF-8 text" % file, path, HTTP_ROUTER_SECTION,
                              "header-files", file) from None
        headers.append(_header_value(name, secret, "header-files", path, file))
    for name, variable in _lines(section.header_environment, "header-environment", path):
        value = os.environ.get(variable)
        if not value:
            raise ConfigError("the environment variable %s is not set" % variable, path,
                              HTTP_ROUTER_SECTION, "header-environment", variable)
        headers.append(_header_value(name, value, "header-environment", path, variable))
    return tuple(headers)


def http_router_settings(section, router_timeout, path, required):
    """The settings of a parsed ``[http-router]`` (its options as
    attributes); ``required`` when ``routing-service = http`` (the URL
    must then be given)."""
    url = _url(section.url, "url", path)
    if required and not url:
        raise ConfigError("is required with routing-service = http", path,
                          HTTP_ROUTER_SECTION, "url")
    route_used_url = _url(section.route_used_url, "route-used-url", path)
    files = {}
    for option in ("ca_file", "cert_file", "key_file"):
        files[option] = secret_path(getattr(section, option), path)
    tls = None
    if any(urlsplit(u).scheme == "https" for u in (url, route_used_url) if u) \
            or any(files.values()):
        tls = client_tls(files["ca_file"], files["cert_file"], files["key_file"],
                         section.server_name, path)
    return HttpRouterSettings(
        url=url, timeout=section.timeout if section.timeout else router_timeout,
        headers=_headers(section, path), tls=tls, max_in_flight=section.max_in_flight,
        max_answer_bytes=section.max_answer_bytes,
        breaker_failures=section.breaker_failures,
        breaker_open_time=section.breaker_open_time, route_used_url=route_used_url,
        batch_interval=section.batch_interval / 1000.0, batch_size=section.batch_size,
        queue_size=section.queue_size)
