"""INVITE -> EventRouteRequest attributes, the two ways the seed's table
"Differences in mapping of INVITE elements" describes.

=================  =========================  ==========================
Attribute          nss (Network SIP Server)   sipserver (SIP Server)
=================  =========================  ==========================
OtherDN            Contact URI                From user name
DNIS               To URI                     To user name
ANI                From URI                   From user name
Extensions         [extensions] section       [invite] section
UserData           not sent                   [invite] section
=================  =========================  ==========================

URIs are shown as Network SIP Server showed them: without the scheme
(``29111@172.21.83.50:29111``).
"""

from ..ids import new_call_uuid
from ..sip import SipParseError, contact_addresses
from .elements import uri_without_scheme

THIS_DN_ROLE = 2      # RoleDestination: the routing point receives the call
OTHER_DN_ROLE = 1     # RoleOrigination: the caller
CALL_TYPE_INBOUND = 2


def call_id_number(conn_id):
    """AttributeCallID: an integer, the low 32 bits of the ConnID."""
    try:
        return int(conn_id, 16) & 0xFFFFFFFF
    except (TypeError, ValueError):
        return 0


class AttributeMapper:
    """Builds the attributes of EventRouteRequest for a call."""

    def __init__(self, mode="sipserver", call_model=None, customer_id=""):
        if mode not in ("sipserver", "nss"):
            raise ValueError("attribute mapping must be sipserver or nss")
        self.mode = mode
        self.call_model = call_model
        self.customer_id = customer_id

    def __call__(self, route_request):
        if self.mode == "nss":
            attributes = self._nss(route_request)
        else:
            attributes = self._sipserver(route_request)
        if route_request.reroute_count:
            attributes["Extensions"]["RerouteCount"] = route_request.reroute_count
        return attributes

    def _common(self, route_request):
        attributes = {
            "ThisDN": route_request.this_dn,
            "ThisQueue": route_request.this_dn,
            "ThisDNRole": THIS_DN_ROLE,
            "ConnID": route_request.conn_id,
            "CallUUID": route_request.call_uuid,
            "CallID": call_id_number(route_request.conn_id),
            "CallType": CALL_TYPE_INBOUND,
            "PropagatedCallType": CALL_TYPE_INBOUND,
        }
        if self.customer_id:
            attributes["CustomerID"] = self.customer_id
        return attributes

    def _nss(self, route_request):
        request = route_request.request
        attributes = self._common(route_request)
        contact = _first_contact(request)
        attributes["OtherDN"] = uri_without_scheme(contact.uri) if contact else None
        attributes["ANI"] = uri_without_scheme(request.from_.uri) if request.from_ else None
        attributes["DNIS"] = uri_without_scheme(request.to.uri) if request.to else None
        attributes["Extensions"] = _read_all(
            self.call_model.extensions if self.call_model else (), request)
        return attributes

    def _sipserver(self, route_request):
        request = route_request.request
        attributes = self._common(route_request)
        from_user = getattr(request.from_.uri, "user", None) if request.from_ else None
        extensions = {}
        trunk = self._inbound_trunk(route_request)
        if trunk is not None:
            extensions["OtherTrunkName"] = trunk
        # The index of canonical names read once, not Headers.get twice
        # (four calls each: issue 19's count of Python calls per INVITE+ACK).
        index = request.headers.by_name()
        if "From" in index and index["From"]:
            extensions["From"] = index["From"][0]
        extensions["BusinessCall"] = 1
        model = self.call_model
        if model is not None and model.invite_extensions:
            extensions.update(_read_all(model.invite_extensions, request))
        attributes["OtherDN"] = from_user
        attributes["OtherDNRole"] = OTHER_DN_ROLE
        attributes["ANI"] = from_user
        attributes["DNIS"] = getattr(request.to.uri, "user", None) if request.to else None
        attributes["PartyUUID"] = new_call_uuid()
        attributes["CallState"] = 0
        attributes["Extensions"] = extensions
        if model is not None and model.invite_userdata:
            attributes["UserData"] = _read_all(model.invite_userdata, request)
        return attributes

    def _inbound_trunk(self, route_request):
        """The Trunk DN the call came in on (SIP Server's OtherTrunkName):
        the trunk whose contact is the INVITE's source address, preferring
        an exact host:port match over a host match."""
        if self.call_model is None:
            return None
        peer = route_request.peer
        host_only = None
        # CallModel.trunks written out: it builds a list for every call.
        for trunk in self.call_model.dns.values():
            if trunk.type != "trunk":
                continue
            contact = trunk.contact
            if contact.host.strip("[]").lower() != str(peer.host).lower():
                continue
            if contact.port == peer.port:
                return trunk.name
            if contact.port is None and host_only is None:
                host_only = trunk.name
        return host_only


def _first_contact(request):
    try:
        contacts = contact_addresses(request)
    except SipParseError:
        return None
    return contacts[0] if contacts else None


def _read_all(pairs, request):
    values = {}
    for key, element in pairs:
        value = element.read(request)
        if value is not None:
            values[key] = value
    return values
