"""The heartbeat link's handshake and MAC'd lines, sans-IO: bytes in,
bytes and messages out."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from sipredirect.ha.wire import (MAX_LINE, PRE_AUTH_BYTES, HaLinkError, LinkEnd,
                                 decode_message)

SECRET = b"s" * 32


def handshake(secret_c=SECRET, secret_a=SECRET, name_c="backup", name_a="primary"):
    accepting = LinkEnd(secret_a, name_a, accepting=True)
    connecting = LinkEnd(secret_c, name_c, accepting=False)
    hello, _ = connecting.receive(accepting.start())
    welcome, _ = accepting.receive(hello)
    connecting.receive(welcome)
    return connecting, accepting


def test_both_ends_authenticate_and_messages_flow_in_sequence():
    connecting, accepting = handshake()
    assert connecting.authenticated and accepting.authenticated
    assert accepting.peer_name == "backup" and connecting.peer_name == "primary"
    lines = b"".join(connecting.seal({"message": "Heartbeat", "n": n}) for n in range(3))
    assert accepting.receive(lines) == (b"", [{"message": "Heartbeat", "n": n}
                                              for n in range(3)])


def test_a_wrong_secret_fails_at_the_accepting_end():
    with pytest.raises(HaLinkError) as e:
        handshake(secret_c=b"")
    assert e.value.reason == "authentication"


def test_the_connecting_end_refuses_a_welcome_it_cannot_verify():
    # A fake peer that accepts our outgoing connection but knows no secret.
    connecting = LinkEnd(SECRET, "primary", accepting=False)
    fake = LinkEnd(b"wrong" * 8, "backup", accepting=True)
    hello, _ = connecting.receive(fake.start())
    forged = json.dumps({"message": "Welcome", "mac": "0" * 64}).encode() + b"\n"
    with pytest.raises(HaLinkError) as e:
        connecting.receive(forged)
    assert e.value.reason == "authentication" and not connecting.authenticated


def test_reflecting_a_node_s_own_hello_as_welcome_fails():
    connecting = LinkEnd(SECRET, "primary", accepting=False)
    challenge = json.dumps({"message": "Challenge", "name": "backup",
                            "nonce": "ab" * 16}).encode() + b"\n"
    hello, _ = connecting.receive(challenge)
    reflected = json.loads(hello)
    welcome = json.dumps({"message": "Welcome", "mac": reflected["mac"]}).encode() + b"\n"
    with pytest.raises(HaLinkError):
        connecting.receive(welcome)


def test_reflecting_a_node_s_own_challenge_fails_on_the_name():
    accepting = LinkEnd(SECRET, "primary", accepting=True)
    connecting = LinkEnd(SECRET, "primary", accepting=False)
    with pytest.raises(HaLinkError) as e:
        connecting.receive(accepting.start())
    assert "own name" in str(e.value)
    accepting2 = LinkEnd(SECRET, "primary", accepting=True)
    accepting2.start()
    hello = json.dumps({"message": "Hello", "name": "primary", "nonce": "cd" * 16,
                        "mac": "0" * 64}).encode() + b"\n"
    with pytest.raises(HaLinkError):
        accepting2.receive(hello)


def test_a_replayed_or_altered_line_ends_the_link():
    connecting, accepting = handshake()
    first = connecting.seal({"message": "Heartbeat"})
    accepting.receive(first)
    with pytest.raises(HaLinkError) as e:
        accepting.receive(first)  # replay: sequence 0 again
    assert e.value.reason == "sequence"
    connecting, accepting = handshake()
    line = connecting.seal({"message": "Handover"}).replace(b"Handover", b"StepDown")
    with pytest.raises(HaLinkError) as e:
        accepting.receive(line)
    assert e.value.reason == "mac"


def test_a_session_s_lines_do_not_verify_in_another_session():
    connecting, _ = handshake()
    _, other = handshake()
    with pytest.raises(HaLinkError) as e:
        other.receive(connecting.seal({"message": "Handover"}))
    assert e.value.reason == "mac"


def test_pre_auth_byte_cap_and_post_auth_line_cap():
    accepting = LinkEnd(SECRET, "primary", accepting=True)
    accepting.start()
    with pytest.raises(HaLinkError) as e:
        accepting.receive(b" " * (PRE_AUTH_BYTES + 1))
    assert e.value.reason == "oversize"
    connecting, accepting = handshake()
    with pytest.raises(HaLinkError) as e:
        accepting.receive(b"x" * (MAX_LINE + 1))
    assert e.value.reason == "oversize"


def test_the_accepting_end_speaking_after_the_handshake_is_refused():
    connecting, accepting = handshake()
    with pytest.raises(HaLinkError) as e:
        connecting.receive(b'{"message":"Heartbeat"}\n')
    assert e.value.reason == "unexpected"


def test_deep_nesting_is_the_link_s_own_error():
    with pytest.raises(HaLinkError):
        decode_message(b"[" * 100000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_decode_to_a_message_or_the_link_s_own_error(data):
    try:
        message = decode_message(data)
    except HaLinkError:
        return
    assert isinstance(message, dict) and isinstance(message["message"], str)


_json_lines = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["message", "name", "nonce", "mac", "x"]),
                      children, max_size=4),
    max_leaves=10).map(lambda v: json.dumps(v).encode() + b"\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300) | _json_lines, max_size=6), st.booleans())
def test_any_bytes_fed_to_either_end_yield_output_or_the_link_s_own_error(chunks, accepting):
    end = LinkEnd(SECRET, "primary", accepting=accepting)
    end.start()
    try:
        for chunk in chunks:
            out, messages = end.receive(chunk)
            assert isinstance(out, bytes) and isinstance(messages, list)
    except HaLinkError:
        pass
    assert not end.authenticated  # nothing without the secret authenticates
