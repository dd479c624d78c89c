"""Free loopback ports for the processes the tests start.

One registry for every helper that picks ports (the twistd servers, the
Redis servers): the kernel may give a just-closed port to the next
bind(0), so two ports asked for before either is bound (the SIP and HA
ports of a pair, a server's and its Redis's) could otherwise be one.
"""

import socket


def address_family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


# Every port free_port has handed out in this process.
_handed_out = set()


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on ``host``, and never one this
    process was given before."""
    for _ in range(100):
        tcp = socket.socket(address_family(host), socket.SOCK_STREAM)
        tcp.bind((host, 0))
        port = tcp.getsockname()[1]
        udp = socket.socket(address_family(host), socket.SOCK_DGRAM)
        try:
            if port in _handed_out:
                continue
            udp.bind((host, port))
        except OSError:
            continue
        finally:
            udp.close()
            tcp.close()
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port")
