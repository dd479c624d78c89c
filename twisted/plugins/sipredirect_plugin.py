from twisted.application.service import ServiceMaker

sipredirect = ServiceMaker(
    "sipredirect",
    "sipredirect.tap",
    "A SIP redirect and call-routing server (INVITE -> 302).",
    "sipredirect",
)
