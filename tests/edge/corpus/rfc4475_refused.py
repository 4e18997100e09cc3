"""RFC 4475 section 3.3: messages the transaction and application layers must refuse."""

from __future__ import annotations

from tests.edge.corpus.base import DROPPED, PARSER, SDP, Case, case, request

RFC4475_REFUSED: list[Case] = [
    # --- 3.3: transaction layer / application layer ----------------------------------------
    case(
        "bext01",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
To: sip:j_user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=242etr
Max-Forwards: 6
Call-ID: bext01.0ha0isndaksdj.$CALLID
Require: nothingSupportedHere
CSeq: 8 OPTIONS
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
l: 0

""",
        {420, 200},
        note="3.3.1 Require of an unknown extension",
    ),
    case(
        "novelsc",
        """OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=384
Max-Forwards: 3
Call-ID: novelsc.asdfasser0q239nwsdfasdkl34.$CALLID
CSeq: 3923423 OPTIONS
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
l: 0

""",
        {416, 404, 400, 200, DROPPED},
        note="3.3.2 unknown Request-URI scheme (never routed anywhere)",
    ),
    case(
        "unksip",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksip.0a1b2c3d4e5f.$CALLID
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Contact: <name:John_Smith>
l: 0

""",
        {405, 400, DROPPED},
        {405},
        note="3.3.3 unknown schemes in To/From/Contact of a REGISTER",
    ),
    case(
        "bext01-invite",
        request(extra=[("Require", "nothingSupportedHere")]),
        {420},
        note="3.3.1 for INVITE: Require of an unknown extension",
    ),
    case(
        "invut",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
Contact: <sip:caller@$LHOST:$LPORT>
To: sip:j.user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=8392034
Max-Forwards: 70
Call-ID: invut.0ha0isndaksdjadsfij34n23d.$CALLID
CSeq: 235448 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Type: application/unknownformat
Content-Length: $CL

<audio>
 <pcmu port="443"/>
</audio>
""",
        {415, 488, 400},
        note="3.3.4 INVITE with a body of unknown type",
    ),
    case(
        "sdp01",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
To: sip:j_user@$HOST:$PORT
Contact: <sip:caller@$LHOST:$LPORT>
From: sip:caller@$LHOST:$LPORT;tag=234
Max-Forwards: 5
Call-ID: sdp01.ndaksdj9342dasdd.$CALLID
Accept: text/nobodyKnowsThis
CSeq: 8 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Length: $CL
Content-Type: application/sdp

v=0
o=mhandley 29739 7272939 IN IP4 $LHOST
s=-
c=IN IP4 $LHOST
t=0 0
m=audio $RTPPORT RTP/AVP 37
a=rtpmap:37 nobodyKnowsThisCodec/8000
""",
        {488, 406, 415},
        note="3.3.5 no acceptable codec, and an Accept nobody supports",
    ),
    case(
        "insuf",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Type: application/sdp
l: $CL

"""
        + SDP,
        PARSER,
        server_header=False,
        note="3.1.2.? invalid: no To, From, Call-ID or Max-Forwards",
    ),
    case(
        "cparam01",
        """REGISTER sip:$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 70
From: sip:watson@$LHOST:$LPORT;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@$HOST:$PORT
Call-ID: cparam01.70710@saturn.example.com.$CALLID
CSeq: 2 REGISTER
Contact: sip:+19725552222@$LHOST:$LPORT;user=phone
l: 0

""",
        {405},
        {405},
        allow_header=True,
        note="3.1.1.? valid: unbracketed Contact with a parameter (REGISTER: 405)",
    ),
    case(
        "cparam02",
        """REGISTER sip:$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 70
From: sip:watson@$LHOST:$LPORT;tag=838293
To: sip:watson@$HOST:$PORT
Call-ID: cparam02.70710@saturn.example.com.$CALLID
CSeq: 3 REGISTER
Contact: <sip:+19725552222@$LHOST:$LPORT;user=phone>
l: 0

""",
        {405},
        {405},
        allow_header=True,
        note="3.1.1.? valid: bracketed Contact with user=phone (REGISTER: 405)",
    ),
    case(
        "regaut01",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: sip:j.user@$HOST:$PORT
From: sip:j.user@$LHOST:$LPORT;tag=87321hj23128
Max-Forwards: 8
Call-ID: regaut01.0ha0isndaksdj.$CALLID
CSeq: 9338 REGISTER
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Authorization: NoOneKnowsThisScheme opaque-data=here
Content-Length:0

""",
        {405, 400, DROPPED},
        {405, 400},
        allow_header=True,
        note="3.3.? REGISTER with an unknown authorization scheme (pjsip's parser drops it)",
    ),
]
