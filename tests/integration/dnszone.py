"""A DNS server for the tests: ``python dnszone.py ZONEFILE PORT READYFILE``.

Answers from a BIND zone file through ``twisted.names`` (BindAuthority,
DNSServerFactory) on 127.0.0.1:PORT over UDP, reading the file again
whenever it changes (a test edits the zone to see a TTL expire).  Twisted's
BindAuthority keeps the quotes of NAPTR strings ("s", "SIP+D2T"); they are
removed here, as a real DNS server would.
"""

import os
import sys

from twisted.internet import reactor
from twisted.names import authority, dns, server


class ZoneAuthority(authority.BindAuthority):
    def loadFile(self, filename):
        self._filename = filename
        self._mtime = os.stat(filename).st_mtime_ns
        super().loadFile(filename)
        for name, records in self.records.items():
            self.records[name] = [_unquoted(r) if r.TYPE == dns.NAPTR else r
                                  for r in records]

    def _lookup(self, name, cls, type, timeout=None):
        if os.stat(self._filename).st_mtime_ns != self._mtime:
            self.loadFile(self._filename)
        return super()._lookup(name, cls, type, timeout)


def _unquoted(record):
    def text(charstr):
        return charstr.string.strip(b'"')
    return dns.Record_NAPTR(record.order, record.preference, text(record.flags),
                            text(record.service), text(record.regexp),
                            record.replacement.name, record.ttl)


def main(zone, port, ready):
    factory = server.DNSServerFactory(authorities=[ZoneAuthority(zone)])
    factory.noisy = False
    reactor.listenUDP(int(port), dns.DNSDatagramProtocol(factory), interface="127.0.0.1")
    with open(ready, "w") as f:
        f.write("ready\n")
    reactor.run()


if __name__ == "__main__":
    main(*sys.argv[1:])
