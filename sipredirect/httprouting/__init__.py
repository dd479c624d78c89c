"""Routing over HTTP: a web service decides where each call goes
(``routing-service = http``, ``[http-router]``, docs/http-routing.rst).

One idea per module: the request document (:mod:`.document`), the answer
and its two shapes (:mod:`.answer`), the bytes of an exchange
(:mod:`.body`), one call's exchange (:mod:`.exchange`), the circuit
breaker (:mod:`.breaker`), the event batches (:mod:`.events`), HTTPS
(:mod:`.tls`), the quiet connection pool (:mod:`.pool`), the Agent's
endpoints and headers made once (:mod:`.agent`), the timeouts of the
exchanges in flight (:mod:`.timeouts`), the settings (:mod:`.settings`),
the service in the chain (:mod:`.service`) and its metrics
(:mod:`.metrics`).

Importers name the module they need (``sipredirect.httprouting.service``),
so that reading the configuration does not load Twisted's HTTP client.
"""
