"""One row of an option table (:class:`Option`), and the groups of rows
several tables share: the options of a TLS listener."""

from .values import (parse_bool, parse_dns_servers, parse_float, parse_host, parse_host_names, parse_int,
                     parse_ip_address, parse_ip_port, parse_networks, parse_sip_uri_list, parse_str,
                     parse_words)


# What the reference calls the value of each type (other types say it with
# ``kind=``, or are a "string").
_KINDS = {parse_int: "integer", parse_float: "number", parse_bool: "boolean",
          parse_ip_address: "IP address", parse_words: "list",
          parse_host: "IP address or host name", parse_ip_port: "address[:port]",
          parse_networks: "network list", parse_host_names: "name list",
          parse_sip_uri_list: "SIP URI list", parse_dns_servers: "address[:port] list"}


class Option:
    """One row of the schema table.  ``reload``: a live reload (SIGHUP,
    ``sipredirect-ctl reload``) applies a change of it; any other option
    needs a restart."""

    __slots__ = ("name", "parse", "default", "help", "minimum", "maximum",
                 "choices", "unit", "kind", "reload")

    def __init__(self, name, parse, default, help, minimum=None, maximum=None,
                 choices=None, unit=None, kind=None, reload=False):
        if not help or not help.strip():
            # The reference page, the man pages and the commented INI
            # files are made from it: an option without it is undocumented.
            raise ValueError("option %s has no help text" % name)
        self.name = name
        self.reload = reload
        self.parse = parse
        self.default = default
        self.help = help
        self.minimum = minimum
        self.maximum = maximum
        self.choices = choices
        self.unit = unit
        self.kind = kind or _KINDS.get(parse, "string")

    @property
    def attr(self):
        return self.name.replace("-", "_")

    def convert(self, text):
        value = self.parse(text.strip())
        if self.minimum is not None and value < self.minimum:
            raise ValueError("must be at least %s" % (self.minimum,))
        if self.maximum is not None and value > self.maximum:
            raise ValueError("must be at most %s" % (self.maximum,))
        if self.choices is not None:
            items = value if isinstance(value, list) else [value]
            bad = [item for item in items if item not in self.choices]
            if bad:
                raise ValueError("%r is not one of %s" % (bad[0], ", ".join(self.choices)))
        return value

    def describe_range(self):
        if self.choices:
            many = "one or more of: " if self.parse is parse_words else "one of: "
            return many + ", ".join(self.choices)
        if self.minimum is not None or self.maximum is not None:
            return "%s to %s" % (self.minimum, self.maximum)
        return ""


def tls_options(certificate_help, peer):
    """The options of one TLS listener (SIP's, the router link's); ``peer``
    names who presents a client certificate."""
    return [
        Option("tls-certificate", parse_str, "", certificate_help),
        Option("tls-private-key", parse_str, "", "PEM private key of tls-certificate."),
        Option("tls-ca-certificates", parse_str, "",
               "PEM bundle of the CAs that sign %s certificates." % peer),
        Option("tls-verify-client", parse_bool, "no",
               "Mutual TLS: require a %s certificate signed by tls-ca-certificates."
               % peer),
        Option("tls-allowed-client-names", parse_str, "",
               "With tls-verify-client: DNS names a %s certificate must carry "
               "(checked with service-identity; comma-separated; empty: any verified "
               "%s)." % (peer, peer)),
    ]


def mutual_tls_options(certificate_help, ca_help, names_help):
    """The TLS options of a link that is always mutual (the HA link): those
    of :func:`tls_options` without tls-verify-client."""
    options = {option.name: option for option in tls_options(certificate_help, "peer")}
    options["tls-ca-certificates"].help = ca_help
    options["tls-allowed-client-names"].help = names_help
    del options["tls-verify-client"]
    return list(options.values())
