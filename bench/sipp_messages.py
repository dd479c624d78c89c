"""The INVITE and ACK ``scenarios/uac_redirect.xml`` makes SIPp send, as
format strings (``{n}`` the call's number, ``{tag}`` the 302's To tag), for
the benchmarks that feed the server in process (``scale.py``,
``calls_per_call.py``)."""

BODY = ("v=0\r\no=gw 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
INVITE = ("INVITE sip:8001@127.0.0.1:5060 SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{n}-1-0\r\n"
          "From: <sip:29111@127.0.0.1:5061>;tag=1234SIPpTag00{n}\r\n"
          "To: <sip:8001@127.0.0.1:5060>\r\n"
          "Call-ID: {n}-1234@127.0.0.1\r\n"
          "CSeq: 1 INVITE\r\n"
          "Contact: <sip:29111@127.0.0.1:5061>\r\n"
          "Max-Forwards: 70\r\n"
          "Content-Type: application/sdp\r\n"
          "Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
ACK = ("ACK sip:8001@127.0.0.1:5060 SIP/2.0\r\n"
       "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-{n}-1-0\r\n"
       "From: <sip:29111@127.0.0.1:5061>;tag=1234SIPpTag00{n}\r\n"
       "To: <sip:8001@127.0.0.1:5060>;tag={tag}\r\n"
       "Call-ID: {n}-1234@127.0.0.1\r\n"
       "CSeq: 1 ACK\r\n"
       "Max-Forwards: 70\r\n"
       "Content-Length: 0\r\n\r\n")
