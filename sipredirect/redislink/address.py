"""Where the shared call memory lives: the ``call-memory`` option.

``local``                                   this process only (the default)
``redis://[:PASSWORD@]HOST[:PORT][/DB]``    one Redis server
``redis-sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER[/DB]``
                                            the master Redis Sentinel names
"""

from urllib.parse import unquote


class RedisAddress:
    """A parsed ``call-memory`` value other than ``local``."""

    __slots__ = ("sentinel", "hosts", "db", "password", "master")

    def __init__(self, sentinel, hosts, db=0, password=None, master=None):
        self.sentinel = sentinel
        self.hosts = tuple(hosts)
        self.db = db
        self.password = password
        self.master = master

    def __str__(self):
        hosts = ",".join("%s:%d" % ("[%s]" % h if ":" in h else h, p) for h, p in self.hosts)
        if self.sentinel:
            return "redis-sentinel://%s/%s/%d" % (hosts, self.master, self.db)
        return "redis://%s/%d" % (hosts, self.db)


def _host_port(text, default_port):
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise ValueError("bad address %r" % text)
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not host:
        raise ValueError("no host in %r" % text)
    if port:
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("bad port in %r" % text)
        return host, int(port)
    return host, default_port


def _db(text):
    if not text.isdigit() or int(text) > 1000:
        raise ValueError("the database must be a number (0-1000), not %r" % text)
    return int(text)


def parse_call_memory(text):
    """``local`` -> None; a Redis URL -> :class:`RedisAddress`; ValueError
    naming what is wrong otherwise."""
    text = text.strip()
    if text in ("", "local"):
        return None
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("redis", "redis-sentinel"):
        raise ValueError("use local, redis://HOST:PORT/DB or "
                         "redis-sentinel://HOST:PORT,HOST:PORT/MASTER/DB")
    password = None
    if "@" in rest:
        credentials, rest = rest.rsplit("@", 1)
        password = unquote(credentials.partition(":")[2] or credentials)
    netloc, _, path = rest.partition("/")
    parts = [p for p in path.split("/") if p]
    sentinel = scheme == "redis-sentinel"
    hosts = [_host_port(h, 26379 if sentinel else 6379) for h in netloc.split(",") if h.strip()]
    if not hosts:
        raise ValueError("no Redis host given")
    if sentinel:
        if not parts:
            raise ValueError("name the master: redis-sentinel://HOST:PORT/MASTER/DB")
        if len(parts) > 2:
            raise ValueError("too many path parts (MASTER/DB)")
        return RedisAddress(True, hosts, _db(parts[1]) if len(parts) > 1 else 0,
                            password, parts[0])
    if len(hosts) > 1:
        raise ValueError("one host for redis://; several are for redis-sentinel://")
    if len(parts) > 1:
        raise ValueError("too many path parts (only /DB)")
    return RedisAddress(False, hosts, _db(parts[0]) if parts else 0, password)
