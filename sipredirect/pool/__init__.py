"""Destinations as one model: every URI a call can be redirected to, its
weight, calls-per-second limit, probing settings and health, and the
choice among them (issue 21).

- :mod:`.destination`: one destination and its state machine (sans-IO);
- :mod:`.registry`: the pool of every configured destination, kept
  across reloads, with watchers of state changes;
- :mod:`.choice`: turns, smooth weighted round-robin, skipping the down
  and the over-limit;
- :mod:`.ratelimit`: the calls-per-second token bucket;
- :mod:`.marks`: marking a destination up or down for a while (the clock
  adapter);
- :mod:`.settings`: ``[probing]`` and ``[destination:URI]`` from the INI.
"""

from .choice import Candidate, WeightedTurns, describe_skipped
from .destination import (DOWN, PROBING, STATES, UNKNOWN, UP, Destination,
                          DestinationSettings, ProbeSettings, StateChange)
from .marks import DestinationMarks, UnknownDestination
from .ratelimit import CallRate
from .registry import DestinationPool, PoolChange
from .settings import ProbingConfig, destination_specs

__all__ = [
    "CallRate", "Candidate", "DOWN", "Destination", "DestinationMarks", "DestinationPool",
    "DestinationSettings", "PROBING", "PoolChange", "ProbeSettings", "ProbingConfig",
    "STATES", "StateChange", "UNKNOWN", "UP", "UnknownDestination", "WeightedTurns",
    "describe_skipped", "destination_specs"]
