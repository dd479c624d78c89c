"""Fuzz target: the router link's line decoder
(:func:`sipredirect.routerlink.messages.decode_line`) and the attribute
checks a RequestRouteCall goes through.

Any line must give a message dict or :class:`RouterProtocolError`; the
link answers that with EventError.  Anything else is a finding.

    PYTHONPATH=. python -m fuzz.router_line /tmp/router-work fuzz/corpus/router -max_total_time=60
"""

from sipredirect.routerlink.messages import (RouterProtocolError, decode_line,
                                             encode_event, extensions, reference_id,
                                             reject_status, sip_headers,
                                             string_attribute)


def test_one_input(data):
    try:
        message = decode_line(data)
        reference_id(message)
        string_attribute(message, "ThisDN", 128, required=False)
        ext = extensions(message)
        sip_headers(ext)
        reject_status(ext)
    except RouterProtocolError as error:
        # The answer the link would send must encode whatever the line held.
        encode_event({"message": "EventError", "ErrorCode": error.code,
                      "ErrorMessage": error.message})
        return
    # Text a router sent may come back in events (ErrorMessage, ThisDN).
    encode_event({"message": "EventRegistered", "Echo": message})


def main(argv=None):
    from fuzz._runner import run
    run("fuzz.router_line", argv)


if __name__ == "__main__":
    main()
