"""RFC 3263 names: a destination's host name -> the SIP servers to send to.

:mod:`.plan` decides, from the URI alone, which DNS questions RFC 3263
4.1/4.2 ask (sans-IO); :mod:`.lookup` asks them through a
``twisted.names`` resolver; :mod:`.cache` keeps the answers for their TTL
and shares one lookup between the calls asking at once; :mod:`.choice`
spreads calls over the targets by SRV priority and weight;
:mod:`.contacts` puts the chosen target into a 302's Contact;
:mod:`.members` makes the targets destinations of the pool.
"""

from .cache import TargetCache
from .choice import SrvChoice
from .contacts import ResolvingRoutes, TargetContacts
from .lookup import Rfc3263Lookup, build_dns_resolver
from .members import TargetDestinations, name_owners
from .plan import Query, Resolution, Target, query_for

__all__ = ["Query", "Resolution", "ResolvingRoutes", "Rfc3263Lookup", "SrvChoice",
           "Target", "TargetCache", "TargetContacts", "TargetDestinations",
           "build_dns_resolver", "name_owners", "query_for"]
