"""The reference router's side of "Routing a call" (docs/router-protocol.rst):
each EventRouteRequest from a primary answered with RequestRouteCall as
the ``decide`` callable says, now or after the rule's delay; EventRouteUsed
and EventAbandoned counted."""

from ..safelog import Logger


class CallAnswers:
    """Answers the calls offered on one connection.

    ``protocol`` is the :class:`~sipredirect.urs.client.RouterClientProtocol`
    it speaks through (its ``decide``, clock, counters and the server's
    role as its registration learnt it).
    """

    log = Logger()

    def __init__(self, protocol):
        self.protocol = protocol
        self._pending_answers = set()

    def link_lost(self):
        """Answers still waiting for their delay are not sent."""
        for call in list(self._pending_answers):
            if call.active():
                call.cancel()
        self._pending_answers.clear()

    def route_request(self, event):
        protocol = self.protocol
        protocol.stats.count("route_requests")
        conn_id, this_dn = event.get("ConnID"), event.get("ThisDN")
        role = protocol.registration.role
        if role != "primary":
            protocol.stats.count("not_primary")
            self.log.warn("EventRouteRequest AttributeConnID {conn_id} from {peer}, whose"
                          " role is {role}: not answering", conn_id=conn_id,
                          peer=protocol.peer, role=role)
            return
        if protocol.decide is None:
            return
        if not isinstance(conn_id, str) or not isinstance(this_dn, str):
            self.log.warn("EventRouteRequest from {peer} without ConnID or ThisDN:"
                          " not answering", peer=protocol.peer)
            return
        decision = protocol.decide(event)
        if decision is None:
            protocol.stats.count("unmatched")
            self.log.info("EventRouteRequest AttributeConnID {conn_id} AttributeThisDN"
                          " {dn!r} AttributeANI {ani!r}: no rule matches, not answering"
                          " (the server falls back after its router-timeout)",
                          conn_id=conn_id, dn=this_dn, ani=event.get("ANI"))
            return
        if decision.action == "ignore":
            protocol.stats.count("ignored")
            self.log.info("EventRouteRequest AttributeConnID {conn_id}: rule {rule}"
                          " ignores it", conn_id=conn_id, rule=decision.rule)
            return
        if decision.delay > 0:
            # Delays never block: the answer is a delayed call, cancelled
            # if the link closes first.
            self._pending_answers.add(
                protocol.clock.callLater(decision.delay, self._answer_later, event, decision))
        else:
            self.answer(event, decision)

    def _answer_later(self, event, decision):
        self._pending_answers = {c for c in self._pending_answers if c.active()}
        if self.protocol.link_open:
            self.answer(event, decision)

    def route_call(self, conn_id, this_dn, other_dn=None, route_type="Default",
                   extensions=None, location=None):
        """Send ``RequestRouteCall``; return its ReferenceID.

        ``other_dn`` is left out when None (a ``Reject`` needs none);
        ``location`` names the destination switch (ISCC's AttributeLocation).
        """
        fields = {"ConnID": conn_id, "ThisDN": this_dn, "RouteType": route_type}
        if other_dn is not None:
            fields["OtherDN"] = other_dn
        if location is not None:
            fields["Location"] = location
        if extensions is not None:
            fields["Extensions"] = extensions
        return self.protocol.send_request("RequestRouteCall", **fields)

    def answer(self, event, decision):
        """Answer ``event`` (an EventRouteRequest) as ``decision`` says.

        The line per answered call (and per EventRouteUsed/EventAbandoned)
        is a debug line: at a few thousand calls a second, formatting and
        writing two info lines per call was about a third of the router's
        CPU, and the answers waited behind it. The stats file counts them."""
        reference = self.route_call(event["ConnID"], event["ThisDN"], decision.other_dn,
                                    decision.route_type, decision.extensions,
                                    decision.location)
        self.protocol.stats.count_route_call(decision.rule)
        if decision.action == "reject":
            self.log.debug("EventRouteRequest AttributeConnID {conn_id} AttributeThisDN"
                           " {dn!r}: rule {rule} rejects it with {code}"
                           " (AttributeReferenceID {reference})",
                           conn_id=event["ConnID"], dn=event["ThisDN"], rule=decision.rule,
                           code=decision.extensions.get("SIP_RESPONSE_CODE"),
                           reference=reference)
        else:
            self.log.debug("EventRouteRequest AttributeConnID {conn_id} AttributeThisDN"
                           " {dn!r}: rule {rule} routes it to AttributeOtherDN {other_dn!r}"
                           " (AttributeReferenceID {reference})",
                           conn_id=event["ConnID"], dn=event["ThisDN"], rule=decision.rule,
                           other_dn=decision.other_dn, reference=reference)
        return reference

    def route_used(self, event):
        self.protocol.stats.count_route_used(event)
        extensions = event.get("Extensions")
        source = extensions.get("RouteSource") if isinstance(extensions, dict) else None
        self.log.debug("EventRouteUsed AttributeConnID {conn_id} AttributeOtherDN"
                       " {other_dn!r} AttributeReferenceID {reference} RouteSource {source}",
                       conn_id=event.get("ConnID"), other_dn=event.get("OtherDN"),
                       reference=event.get("ReferenceID"), source=source)

    def abandoned(self, event):
        self.protocol.stats.count("abandoned")
        self.log.debug("EventAbandoned AttributeConnID {conn_id} AttributeThisDN {dn!r}",
                       conn_id=event.get("ConnID"), dn=event.get("ThisDN"))
