"""OPTIONS probing of the destinations (issue 21, point 2).

- :mod:`.request`: where a probe goes and the OPTIONS it sends;
- :mod:`.prober`: the sans-IO schedule, transactions and results;
- :mod:`.streams`: outbound TCP and TLS connections for probes;
- :mod:`.service`: the reactor adapter (clock, sockets, reloads).

The client transactions themselves are RFC 3261 17.1.2's, in
:mod:`sipredirect.sip.clienttransaction`.
"""

from .prober import Prober, SendProbe
from .request import ProbeTarget, options_request, probe_target
from .service import ProberService

__all__ = ["Prober", "ProberService", "ProbeTarget", "SendProbe", "options_request",
           "probe_target"]
