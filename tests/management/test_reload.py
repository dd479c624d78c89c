"""Live reload: validated first, applied atomically, in-flight calls keep
the configuration they started with."""

import json

from sipredirect.redirect import Peer
from sipredirect.testing import (RecordingConnection, RecordingRoutingService, invite,
                                 status_of)


def contacts(conn):
    return [data.split(b"Contact: ")[1].split(b"\r\n")[0].decode()
            for data in conn.sent if status_of(data) == 302]


def send(node, conn, **kwargs):
    node.sip.message_received(invite(**kwargs), Peer("udp", "127.0.0.1", 5061, conn))


def test_new_destination_applies_to_new_calls_and_in_flight_calls_keep_the_old(
        make_node, base_config):
    slow = RecordingRoutingService()  # holds every call until router-timeout
    node = make_node(user_service=slow)
    conn = RecordingConnection()
    send(node, conn)  # in flight: waits for the slow service
    node.path.write_text(base_config.replace("sip:old@", "sip:new@"))
    result = node.reloader.reload()
    assert result.applied and result.changed == ["[sipredirect] default-routing-destinations"]
    assert result.needs_restart == []
    send(node, conn)
    node.clock.advance(2.5)
    assert contacts(conn) == ["<sip:old@10.0.0.1>", "<sip:new@10.0.0.1>"]


def test_a_broken_file_is_refused_and_the_running_configuration_stays(
        make_node, base_config):
    node = make_node()
    node.path.write_text(base_config.replace("router-timeout = 2", "router-timeout = soon")
                         .replace("sip:old@", "sip:new@"))
    result = node.reloader.reload()
    assert not result.applied
    assert result.error == ("%s: [sipredirect] router-timeout = soon: not a number"
                            % node.path)
    conn = RecordingConnection()
    send(node, conn)
    assert contacts(conn) == ["<sip:old@10.0.0.1>"]
    assert node.reloads == {"applied": 0, "refused": 1}


def test_options_that_need_a_restart_are_reported_not_applied(
        make_node, base_config):
    node = make_node()
    node.path.write_text(base_config.replace("sip-port = 5999", "sip-port = 5998")
                         .replace("8001 =", "8001 =\n8002 = sip:sales@10.0.0.2"))
    result = node.reloader.reload()
    assert result.applied
    assert result.needs_restart == ["[sipredirect] sip-port"]
    assert result.changed == ["[routing-points] 8002"]
    assert node.sip.config.sip_port == 5999
    conn = RecordingConnection()
    send(node, conn, user="8002")
    assert contacts(conn) == ["<sip:sales@10.0.0.2>"]
    # Reported again until the restart: the running port is still 5999.
    assert node.reloader.reload().needs_restart == ["[sipredirect] sip-port"]


def test_a_default_value_written_out_is_no_change(
        make_node, base_config):
    node = make_node()
    node.path.write_text(base_config + "[management]\nendpoint = tcp:9060:interface=127.0.0.1\n")
    result = node.reloader.reload()
    assert result.applied and result.changed == [] and result.needs_restart == []


def test_reload_reopens_the_decision_log_for_logrotate(make_node, tmp_path):
    path = tmp_path / "decisions.jsonl"
    node = make_node(decision_log=str(path))
    conn = RecordingConnection()
    send(node, conn, call_id="before")
    path.rename(tmp_path / "decisions.jsonl.1")
    node.reloader.reload()
    send(node, conn, call_id="after")
    assert [json.loads(line)["call_id"] for line in path.read_text().splitlines()] == [
        "after"]
    rotated = (tmp_path / "decisions.jsonl.1").read_text().splitlines()
    assert [json.loads(line)["call_id"] for line in rotated] == ["before"]
