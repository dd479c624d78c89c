"""enable-sip-port-on-backup = yes on a pair that shares one host's SIP
address and port can never work: the start refuses it."""

import pytest

from sipredirect.config import ConfigError, parse_config
from sipredirect.ha.portcheck import check_port_on_backup, is_local_address

PAIR = """[sipredirect]
sip-address = {address}
sip-port = 5060
[ha]
role = backup
listen = tcp:3101:interface=127.0.0.1
peer = tcp:{peer}:3100
secret = {secret}
enable-sip-port-on-backup = {flag}
{extra}
"""


def config(address="127.0.0.1", peer="127.0.0.1", flag="yes", extra=""):
    return parse_config(PAIR.format(address=address, peer=peer, flag=flag, extra=extra,
                                    secret="s" * 32), "etc/backup.ini")


def refused(cfg, is_local=is_local_address):
    with pytest.raises(ConfigError) as info:
        check_port_on_backup(cfg, is_local)
    return str(info.value)


def test_the_example_pair_with_the_flag_flipped_is_refused_naming_the_option():
    message = refused(config())
    assert message.startswith("etc/backup.ini: [ha] enable-sip-port-on-backup = yes: "
                              "cannot work: the peer (127.0.0.1) runs on this host and "
                              "binds SIP on 127.0.0.1:5060 as this node does "
                              "(peer-sip-address is empty: the same as this node's)")


def test_a_wildcard_address_overlaps_the_peers_on_the_same_port():
    assert "binds SIP on 127.0.0.2:5060" in refused(
        config(address="0.0.0.0", extra="peer-sip-address = 127.0.0.2"))


@pytest.mark.parametrize("extra", ["peer-sip-address = 127.0.0.2:5060",
                                   "peer-sip-address = 127.0.0.1:5070"])
def test_a_peer_on_another_address_or_port_of_this_host_is_accepted(extra):
    check_port_on_backup(config(extra=extra))


def test_a_peer_on_another_host_is_accepted():
    check_port_on_backup(config(peer="192.0.2.1"), is_local=lambda address: False)


def test_a_peer_named_by_host_name_is_not_checked():
    asked = []
    check_port_on_backup(config(peer="peer.example.net"), is_local=asked.append)
    assert asked == []


def test_without_the_flag_nothing_is_checked():
    check_port_on_backup(config(flag="no"))


def test_this_host_is_what_it_can_bind():
    assert is_local_address("127.0.0.1")
    assert not is_local_address("192.0.2.1")  # TEST-NET-1, on no interface here
