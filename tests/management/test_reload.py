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
    assert result.error == ("%s, line 3: [sipredirect] router-timeout = soon: not a number"
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


def capture_log(node):
    from twisted.logger import Logger
    events = []
    node.reloader.log = Logger(observer=events.append)
    return [lambda: [e["log_format"].format(**e) for e in events]][0]


def test_an_empty_file_is_refused_unless_forced(make_node):
    """A truncated write must not make every call fail (issue 18, point 12)."""
    node = make_node()
    lines = capture_log(node)
    for text in ("", "\n  \n; all commented out\n# really\n"):
        node.path.write_text(text)
        result = node.reloader.reload()
        assert not result.applied and result.forceable
        assert result.error == ("%s: the file is empty (a truncated write?) "
                                "(sipredirect-ctl reload --force applies it)" % node.path)
    assert node.last_reload["result"] == "refused"
    assert node.last_reload["applied"] is False
    assert node.reloads == {"applied": 0, "refused": 2}
    conn = RecordingConnection()
    send(node, conn)
    assert contacts(conn) == ["<sip:old@10.0.0.1>"]
    # The same refusal again within 10 s: counted, logged once.
    node.reloader.reload()
    assert len(lines()) == 1 and node.reloads["refused"] == 3
    result = node.reloader.reload(force=True)
    assert result.applied and result.forced
    assert result.routing_points == {"added": [], "removed": ["8001"], "changed": []}
    assert "(forced: the file is empty" in lines()[-1]
    send(node, conn)
    assert status_of(conn.sent[-1]) == 480  # as the issue saw: forced, so applied


def test_a_file_without_any_routing_point_or_destination_is_refused(make_node):
    node = make_node()
    node.path.write_text("[sipredirect]\nsip-port = 5999\nrouter-timeout = 2\n"
                         "[router]\nendpoint =\n")
    result = node.reloader.reload()
    assert not result.applied and "removes every routing point and default " \
        "destination" in result.error
    assert node.reloader.reload(force=True).applied


def test_removing_some_routing_points_is_an_ordinary_reload(make_node, base_config):
    node = make_node(base_config.replace("8001 =", "8001 =\n8002 =\n8003 = sip:a@h"))
    node.path.write_text(base_config.replace("8001 =", "8002 = sip:b@h\n8004 ="))
    result = node.reloader.reload()
    assert result.applied and not result.forced
    assert result.routing_points == {"added": ["8004"], "removed": ["8001", "8003"],
                                     "changed": ["8002"]}


def test_an_applied_reload_logs_old_and_new_values(make_node, base_config):
    node = make_node()
    lines = capture_log(node)
    node.path.write_text(base_config.replace("sip:old@", "sip:new@")
                         .replace("8001 =", "8001 =\n8002 = sip:b@h"))
    result = node.reloader.reload()
    assert result.values == {"[sipredirect] default-routing-destinations": [
        "sip:old@10.0.0.1", "sip:new@10.0.0.1"]}
    (line,) = lines()
    assert line == ("configuration reloaded from %s: [sipredirect] "
                    "default-routing-destinations: 'sip:old@10.0.0.1' -> "
                    "'sip:new@10.0.0.1'; routing points added: 8002" % node.path)
    assert node.status()["last_reload"]["result"] == "applied"


def test_an_ini_syntax_error_names_the_line(make_node, base_config):
    node = make_node()
    node.path.write_text(base_config + "no equals sign here\n")
    result = node.reloader.reload()
    assert result.error == ("%s, line 9: cannot parse 'no equals sign here' (options "
                            "are written 'name = value', sections '[name]')" % node.path)
