"""The Genesys-compatible call model (seed tables "Differences in mapping
of INVITE elements" and "... RequestRouteCall attributes").

INVITE -> EventRouteRequest attributes (:mod:`.mapping`), and a router's
OtherDN -> the 302's Contact through DNs, trunks, access codes and dial
plans (:mod:`.resolver`).
"""
