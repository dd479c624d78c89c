"""The fast path reads a common request exactly as the full parser does.

``read_message`` answers through ``read_common_request`` when it accepts
a message and through ``parse_message`` otherwise.  For every input
below, the outcome of ``read_message`` must equal ``parse_message``'s in
every detail the equivalence tests compare (every slot of the Request,
its URIs, addresses and Vias, the Headers lines, lookups and repeats, the
responses built from it), and whatever the fast path accepts must be
accepted by the full parser.  The inputs: the RFC 4475 messages, every
message the other parser tests parse, the seeded mutation corpus of
``test_parser_equivalence``, the INVITE and ACK of the benchmarks, and
hypothesis-generated variants of real INVITEs and ACKs.
"""

import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipredirect import sip
from sipredirect.sip.fastpath import read_common_request, read_message

from test_parser_equivalence import (DATA_DIR, LIMITS, SEED, TEMPLATES, _first_difference,
                                     _outcome, _plain, mutation_corpus, recorded_inputs)
from test_parser_properties import SEEDS
from test_parser_properties import inputs as property_inputs

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, os.fspath(BENCH))
from parser_speed import COMPACT_INVITE, GATEWAY_INVITE  # noqa: E402
from sipp_messages import ACK, INVITE  # noqa: E402


def _plain_result(parse, data, kwargs):
    outcome = _outcome(lambda: parse(data, **kwargs))
    if outcome[0] != "ok":
        return outcome, None
    message = parse(data, **kwargs)
    if type(message).__name__ != "Request":
        return outcome, None
    return outcome, (_outcome(lambda: sip.contact_addresses(message)),
                     _outcome(lambda: sip.make_response(message, 302, to_tag="t1").to_bytes()),
                     _outcome(lambda: sip.response_bytes(message, 302, to_tag="t1")))


def check_same(data, **kwargs):
    """``read_message`` and ``parse_message`` agree on ``data``; returns
    whether the fast path accepted it."""
    full = _plain_result(sip.parse_message, data, kwargs)
    fast = _plain_result(read_message, data, kwargs)
    if repr(full) != repr(fast):
        path, mine, theirs = _first_difference(full, fast)
        pytest.fail("fast path differs for %r %r at %s:\nfull: %r\nfast: %r"
                    % (data, kwargs, path, mine, theirs))
    accepted = read_common_request(data, **kwargs) is not None
    if accepted:
        assert full[0][0] == "ok"
    return accepted


def _bench_messages():
    messages = []
    for n in (1, 7, 123456):
        for template in (INVITE, ACK, GATEWAY_INVITE, COMPACT_INVITE):
            messages.append(template.format(n=n, tag="%d-as5a1f" % n).encode())
    return messages


def test_the_benchmark_invites_and_acks_take_the_fast_path():
    """SIPp's INVITE and ACK and the gateway INVITEs (full and compact
    names) are read by the fast path, as the full parser reads them, in
    datagram and stream mode and within the default limits."""
    for data in _bench_messages():
        for kwargs in ({}, {"stream": True}, {"max_headers": 256}):
            assert check_same(data, **kwargs), data


def test_fast_request_equals_full_request_field_by_field():
    """The Request itself, compared whole (not only through _plain)."""
    for data in _bench_messages():
        fast, full = read_common_request(data), sip.parse_message(data)
        assert repr(_plain(fast)) == repr(_plain(full))
        assert list(fast.headers) == list(full.headers)
        assert fast.headers.by_name() == full.headers.by_name()


def test_templates_of_the_equivalence_corpus():
    accepted = 0
    for template in TEMPLATES:
        for kwargs in LIMITS:
            accepted += check_same(template.encode(), **kwargs)
    assert accepted > 0


def test_rfc4475_messages_keep_the_full_parsers_outcome():
    files = sorted(DATA_DIR.glob("*.dat"))
    assert files
    for path in files:
        for kwargs in LIMITS:
            check_same(path.read_bytes(), **kwargs)


def test_messages_of_the_other_parser_tests():
    calls = recorded_inputs()
    assert len(calls) > 100
    accepted = 0
    for data, args, kwargs in calls:
        if args:
            kwargs = dict(kwargs, stream=args[0])
        accepted += check_same(data, **kwargs)
    assert accepted > 10


def test_mutation_corpus():
    """The seeded mutations: accepted or not by the fast path, the outcome
    is the full parser's, with and without limits."""
    rng = random.Random(SEED + 2)
    accepted = 0
    corpus = mutation_corpus()
    for data in corpus:
        accepted += check_same(data)
        check_same(data, stream=True)
        check_same(data, stream=rng.random() < 0.5, max_headers=rng.randrange(2, 20),
                   max_line=rng.randrange(20, 250))
    # Many mutations leave a common request: the fast path must see some.
    assert len(corpus) // 20 < accepted < len(corpus)


# -- hypothesis: variants of real INVITEs and ACKs ---------------------------------

_TEMPLATE_LINES = [template.format(n=5, tag="5-x").split("\r\n\r\n", 1)
                   for template in (INVITE, ACK, GATEWAY_INVITE, COMPACT_INVITE)]
_PIECES = ["", " ", "  ", "\t", ",", ";", '"', "\\", "\r", "\n", "\r\n", "\r\n ", ":",
           "%41", "\u00e9", "\x00", "\x7f", "<", ">", "=", "tag=", ";branch=z9hG4bK",
           "0", "99999", "v", "i", "Via", "From", "To", "CSeq", "Call-ID", "Date",
           "Expires: 10", "Expires: x", "Content-Length", "l: 0", "Require: a b",
           "Supported: ,", "Contact: *", "m: a, b", "Max-Forwards: 256"]


@st.composite
def _variants(draw):
    head, body = draw(st.sampled_from(_TEMPLATE_LINES))
    lines = head.split("\r\n")
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 5))
        k = draw(st.integers(0, len(lines) - 1))
        if kind == 0:                     # insert a piece in a line
            p = draw(st.integers(0, len(lines[k])))
            lines[k] = lines[k][:p] + draw(st.sampled_from(_PIECES)) + lines[k][p:]
        elif kind == 1 and k > 0:         # drop a header line
            del lines[k]
        elif kind == 2 and k > 0:         # repeat a header line
            lines.insert(draw(st.integers(1, len(lines))), lines[k])
        elif kind == 3:                   # a new header line
            lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(_PIECES))
                         + draw(st.sampled_from([":", ": ", " :", ":\t"]))
                         + draw(st.sampled_from(_PIECES + ["x", "1", "<sip:a@b>"])))
        elif kind == 4:                   # case of a name
            name, colon, value = lines[k].partition(":")
            lines[k] = draw(st.sampled_from([name.upper(), name.lower(), name])) + colon + value
        elif kind == 5:                   # the body cut or grown
            body = body[:draw(st.integers(0, len(body)))] + draw(st.sampled_from(["", "x"]))
    data = "\r\n".join(lines) + "\r\n\r\n" + body
    return data.encode("utf-8", "surrogateescape")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_variants(), st.sampled_from(LIMITS + ({"max_headers": 5}, {"max_line": 300})))
def test_generated_variants_of_real_invites_and_acks(data, kwargs):
    check_same(data, **kwargs)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(property_inputs)
def test_any_input_of_the_parser_properties(data):
    """The property tests' inputs (random bytes, mutated seeds) give the
    full parser's outcome through read_message too."""
    check_same(data, max_headers=100, max_line=8192)


def test_every_seed_of_the_parser_properties():
    accepted = sum(check_same(seed) for seed in SEEDS)
    assert accepted > 0
