"""sipredirect: a SIP redirect and call-routing server built on Twisted."""

__version__ = "0.1.0"
