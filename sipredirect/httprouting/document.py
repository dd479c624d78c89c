"""The JSON document POSTed for a call: what the router link's
EventRouteRequest carries (its attributes, attribute mapping applied),
plus what a web service cannot ask back for: the destinations a re-routed
call was already sent to, and where the INVITE came from
(docs/http-routing.rst, docs/http-routing.schema.json)."""

from ..routerlink.messages import encode_event

#: The document's ``version``: raised when a field changes meaning.
DOCUMENT_VERSION = 1


def route_document(request):
    """The request document of ``request`` (a RouteRequest) as a dict."""
    attributes = request.attributes or {"ThisDN": request.this_dn,
                                        "ConnID": request.conn_id,
                                        "CallUUID": request.call_uuid}
    peer = request.peer
    document = {"message": "RouteRequest", "version": DOCUMENT_VERSION}
    document.update(attributes)
    document["RerouteCount"] = request.reroute_count
    document["UsedDestinations"] = sorted(request.used_destinations)
    document["SipCallID"] = request.call_id
    document["RequestURI"] = str(request.request_uri)
    document["Transport"] = peer.transport
    document["Source"] = {"host": str(peer.host), "port": peer.port}
    return document


def encode_document(document):
    """The body of a POST: compact UTF-8 JSON.  Text of the INVITE that was
    not UTF-8 goes out in the router link's escaped form, so no INVITE
    can make the request fail to encode."""
    return encode_event(document)


def used_document(request, decision, now):
    """RouteUsed: the call's redirect was acknowledged (EventRouteUsed)."""
    return {"message": "RouteUsed", "ThisDN": request.this_dn, "ConnID": request.conn_id,
            "CallUUID": request.call_uuid, "SipCallID": request.call_id,
            "OtherDN": str(decision.contacts[0].uri), "RouteSource": decision.source,
            "Time": round(now, 6)}


def abandoned_document(request, now):
    """Abandoned: the caller gave up while the call waited for a route
    (EventAbandoned)."""
    return {"message": "Abandoned", "ThisDN": request.this_dn, "ConnID": request.conn_id,
            "CallUUID": request.call_uuid, "SipCallID": request.call_id,
            "Time": round(now, 6)}
