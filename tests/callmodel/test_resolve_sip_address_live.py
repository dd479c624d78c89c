"""resolve-sip-address through Twisted's real DNS client, answered from a
hosts file so that no packet leaves the machine (seed row 15)."""

import pytest_twisted
from twisted.internet import reactor
from twisted.names import client

from sipredirect.callmodel.resolver import HostCache
from sipredirect.routingtypes import Contact
from sipredirect.sip import parse_sip_uri


@pytest_twisted.inlineCallbacks
def test_host_name_becomes_its_ipv4_address(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("192.0.2.77 premise-sipserver.test\n")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")  # never asked: the hosts file answers
    resolver = client.createResolver(resolvconf=str(resolv), hosts=str(hosts))
    cache = HostCache(resolver, reactor)
    (contact,) = yield cache.resolve_contacts(
        [Contact(parse_sip_uri("sip:9001@premise-sipserver.test:5080;transport=tcp"))])
    assert str(contact.uri) == "sip:9001@192.0.2.77:5080;transport=tcp"
