"""The units the redirect core is composed of, one idea each.

:class:`~sipredirect.redirect.RedirectCore` is the thin composer the
Twisted side talks to; each rule of a call lives in one of these:

- :mod:`.replyto`: where a response goes (RFC 3261 18.2.2, RFC 3581);
- :mod:`.transactions`: the server transactions, their responses, ACKs,
  CANCELs and timers (RFC 3261 17.2, 9.2);
- :mod:`.admission`: whether a request is served at all (prechecks, the
  drain answer, overload, max-transactions) and the answers to
  non-INVITE requests;
- :mod:`.identity`: who a call is (ConnID, CallUUID, the call memory,
  re-routing counts and their limit);
- :mod:`.routingrequests`: asking the routing chain and turning its
  decision into the answer;
- :mod:`.reporting`: counters, the INVITE answer latency, decision facts
  and the event trace.

All of them are sans-IO: every input carries ``now``, and what to send
comes back as :mod:`~sipredirect.actions`.  Each unit reads the running
:class:`~sipredirect.policy.Policy` through the one shared holder.
"""
