"""The fuzz targets under fuzz/ import without atheris and pass over
their seed corpus, so a long fuzzing run starts from targets that work."""

from pathlib import Path

import pytest

from fuzz import ha_line, router_line, sip_parser

REPO = Path(__file__).resolve().parents[1]
# The SIP target's seeds are the RFC 4475 messages the parser tests use.
CORPUS = {"sip": REPO / "tests" / "data" / "rfc4475",
          "router": REPO / "fuzz" / "corpus" / "router",
          "ha": REPO / "fuzz" / "corpus" / "ha"}


def seeds(name):
    paths = sorted(CORPUS[name].iterdir())
    assert paths, "no seeds in %s" % CORPUS[name]
    return [path.read_bytes() for path in paths]


@pytest.mark.parametrize("target, corpus", [(sip_parser, "sip"), (router_line, "router"),
                                            (ha_line, "ha")])
def test_each_target_runs_over_its_seed_corpus(target, corpus):
    for data in seeds(corpus):
        target.test_one_input(data)


def test_the_sip_seeds_are_the_rfc4475_messages():
    assert len(seeds("sip")) >= 49


def test_targets_import_and_run_without_atheris(monkeypatch):
    import importlib
    import sys
    monkeypatch.setitem(sys.modules, "atheris", None)  # "import atheris" fails
    for target in (sip_parser, router_line, ha_line):
        importlib.reload(target).test_one_input(b"")
