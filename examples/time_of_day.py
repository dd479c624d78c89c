"""An example routing service: office hours go to one destination, the
rest of the day to another.

Put this directory on PYTHONPATH and configure::

    [sipredirect]
    routing-service = time_of_day:TimeOfDayRouting

    [routing-service]
    dns = 8001, 8002            ; routing points it decides for (empty: all)
    open = 08:00                ; office hours, local time of the server
    close = 18:00
    day = sip:office@10.0.0.10
    night = sip:night-desk@10.0.0.20

Calls on other routing points pass (``None``) to the next service in the
chain: the router link, the static tables, the default destinations.
"""

import time

from zope.interface import implementer

from sipredirect.api import (PLUGIN_SECTION, ConfigError, Contact, IRoutingService, Redirect,
                             SipParseError, parse_sip_uri)


def _minutes(text, option, path):
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        value = -1
    if not 0 <= value < 24 * 60:
        raise ConfigError("expected HH:MM", path, PLUGIN_SECTION, option, text)
    return value


@implementer(IRoutingService)
class TimeOfDayRouting:
    name = "time-of-day"

    def __init__(self, config, now=time.time):
        options = config.routing_service_options
        path = config.path
        self.now = now
        self.dns = {dn.strip() for dn in options.get("dns", "").split(",") if dn.strip()}
        self.open = _minutes(options.get("open", "08:00"), "open", path)
        self.close = _minutes(options.get("close", "18:00"), "close", path)
        self.targets = {}
        for option in ("day", "night"):
            text = options.get(option)
            if not text:
                raise ConfigError("is required", path, PLUGIN_SECTION, option)
            try:
                self.targets[option] = parse_sip_uri(text)
            except SipParseError as e:
                raise ConfigError("not a SIP URI (%s)" % e.reason, path, PLUGIN_SECTION,
                                  option, text) from None

    def route(self, request):
        if self.dns and request.this_dn not in self.dns:
            return None  # not ours: the next service in the chain decides
        local = time.localtime(self.now())
        minute = local.tm_hour * 60 + local.tm_min
        if self.open <= self.close:
            daytime = self.open <= minute < self.close
        else:  # hours across midnight
            daytime = minute >= self.open or minute < self.close
        target = self.targets["day" if daytime else "night"]
        # A plain value: the call is answered in this reactor turn.
        return Redirect([Contact(target)], source=self.name)

    def route_confirmed(self, request, decision):
        pass

    def route_unconfirmed(self, request, decision):
        pass
