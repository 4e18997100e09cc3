"""RFC 4475 section 3.1.2: syntactically invalid messages."""

from __future__ import annotations

from tests.edge.corpus.base import DROPPED, PARSER, SDP, Case, case, request

RFC4475_INVALID: list[Case] = [
    # --- 3.1.2: syntactically invalid -----------------------------------------------------
    case(
        "badinv01",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
To: sip:j.user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas.$CALLID
CSeq: 8 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH;;,;,,
Contact: "Joe" <sip:joe@$LHOST:$LPORT>;;;;
Content-Length: $CL
Content-Type: application/sdp

"""
        + SDP,
        PARSER,
        server_header=False,
        note="3.1.2.1 invalid: empty Via and Contact params",
    ),
    case(
        "clerr",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
Max-Forwards: 80
To: sip:j.user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=93942939o2
Contact: <sip:caller@$LHOST:$LPORT>
Call-ID: clerr.0ha0isndaksdjweiafasdk3.$CALLID
CSeq: 8 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Type: application/sdp
Content-Length: 9999

"""
        + SDP,
        PARSER | {200},
        server_header=False,
        note="3.1.2.2 invalid: Content-Length larger than the datagram (pjsip takes the body "
        "it got; the policy does not ask the guard to check)",
    ),
    case(
        "ncl",
        request(replace={"Content-Type": "application/sdp"}).replace(
            b"Content-Length: $CL", b"Content-Length: -999"
        ),
        PARSER,
        server_header=False,
        note="3.1.2.3 invalid: negative Content-Length",
    ),
    case(
        "scalar02",
        """REGISTER sip:$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 300
From: sip:user@$LHOST:$LPORT;tag=932298
To: sip:user@$HOST:$PORT
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32.$CALLID
CSeq: 39292 REGISTER
Expires: 1
Contact: <sip:user@$LHOST:$LPORT>;expires=280297596632815
Content-Length: 0

""",
        {405, 400},
        {405},
        note="3.1.2.4 invalid: Max-Forwards 300, huge contact expires (REGISTER refused first)",
    ),
    case(
        "scalarlg",
        """REGISTER sip:$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
CSeq: 36893488147419103232 REGISTER
Max-Forwards: 70
Expires: 10000000000000000000
From: sip:user@$LHOST:$LPORT;tag=32394234
To: sip:user@$HOST:$PORT
Call-ID: scalarlg.98asdh@192.0.2.1.$CALLID
Contact: <sip:user@$LHOST:$LPORT>
Content-Length: 0

""",
        {400, DROPPED},
        {400},
        note="3.1.2.5 invalid: CSeq and Expires beyond 2**64",
    ),
    case(
        "quotbal",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
To: "Mr. J. User <sip:j.user@$HOST:$PORT>
From: sip:caller@$LHOST:$LPORT;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj.$CALLID
Contact: <sip:caller@$LHOST:$LPORT>
CSeq: 8 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Type: application/sdp
Content-Length: $CL

"""
        + SDP,
        PARSER,
        server_header=False,
        note="3.1.2.6 invalid: unterminated quoted string in To",
    ),
    case(
        "ltgtruri",
        """INVITE <sip:user@$HOST:$PORT> SIP/2.0
To: sip:user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5.$CALLID
CSeq: 1 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Contact: <sip:caller@$LHOST:$LPORT>
Content-Type: application/sdp
Content-Length: $CL

"""
        + SDP,
        PARSER,
        server_header=False,
        note="3.1.2.7 invalid: Request-URI in angle brackets",
    ),
    case(
        "lwsruri",
        """INVITE sip:user@$HOST:$PORT; lr SIP/2.0
To: sip:user@$HOST:$PORT;tag=3xfe-9921883-z9f
From: sip:caller@$LHOST:$LPORT;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423.$CALLID
CSeq: 2130706432 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Contact: <sip:caller@$LHOST:$LPORT>
Content-Length: 0

""",
        PARSER,
        server_header=False,
        note="3.1.2.8 invalid: LWS inside the Request-URI",
    ),
    case(
        "lwsstart",
        """INVITE  sip:user@$HOST:$PORT  SIP/2.0
Max-Forwards: 8
To: sip:user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com.$CALLID
CSeq: 1893884 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Contact: <sip:caller@$LHOST:$LPORT>
Content-Length: 0

""",
        PARSER | {200},
        server_header=False,
        note="3.1.2.9 invalid: several SP between Request-Line elements (pjsip tolerates it)",
    ),
    case(
        "trws",
        b"OPTIONS sip:remote-target@$HOST:$PORT SIP/2.0  \n"
        b"Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH\n"
        b"Max-Forwards: 70\n"
        b"From: <sip:local-resource@$LHOST:$LPORT>;tag=329429089\n"
        b"To: <sip:remote-target@$HOST:$PORT>\n"
        b"Call-ID: trws.oicu34958239neffasdhr2345r.$CALLID\n"
        b"Accept: application/sdp\n"
        b"CSeq: 238923 OPTIONS\n"
        b"Content-Length: 0\n\n",
        {400, DROPPED, 200},
        note="3.1.2.10 invalid: trailing whitespace after SIP/2.0 (tolerating it is fine)",
    ),
    case(
        "escruri",
        """INVITE sip:user@$HOST:$PORT?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=341518
Max-Forwards: 7
Contact: <sip:caller@$LHOST:$LPORT>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5.$CALLID
CSeq: 149209342 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Type: application/sdp
Content-Length: $CL

"""
        + SDP,
        {400, DROPPED, 200},
        note="3.1.2.11 invalid: escaped headers in the Request-URI",
    ),
    case(
        "baddate",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
To: sip:user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234.$CALLID
CSeq: 1392934 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@$LHOST:$LPORT>
Content-Type: application/sdp
Content-Length: $CL

"""
        + SDP,
        {200, 400},
        note="3.1.2.12 invalid: non-GMT Date (tolerating it is fine)",
    ),
    case(
        "regbadct",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: sip:user@$HOST:$PORT
From: sip:user@$LHOST:$LPORT;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1.$CALLID
CSeq: 1 REGISTER
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Contact: sip:user@$LHOST:$LPORT?Route=%3Csip:sip.example.com%3E
l: 0

""",
        {405, 400, DROPPED},
        {405},
        note="3.1.2.13 invalid: unbracketed Contact with ?headers",
    ),
    case(
        "badaspec",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 70
From: "Watson, Thomas" < sip:t.watson@$LHOST:$LPORT > ;tag=ed23
To: sip:user@$HOST:$PORT
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3.$CALLID
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

""",
        {400, DROPPED, 200},
        note="3.1.2.14 invalid: whitespace inside <> of an addr-spec",
    ),
    case(
        "baddn",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 70
From: Bell, Alexander <sip:a.g.bell@$LHOST:$LPORT>;tag=43
To: Watson, Thomas <sip:t.watson@$HOST:$PORT>
Call-ID: baddn.31415@c.example.com.$CALLID
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

""",
        {400, DROPPED, 200},
        note="3.1.2.15 invalid: unquoted display name with a comma",
    ),
    case(
        "badvers",
        """OPTIONS sip:t.watson@$HOST:$PORT SIP/7.0
Via:     SIP/7.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@$LHOST:$LPORT>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@$HOST:$PORT>
Call-ID: badvers.31417@c.example.com.$CALLID
CSeq:    1 OPTIONS
l: 0

""",
        {505, 400, DROPPED},
        server_header=False,
        note="3.1.2.16 invalid: SIP/7.0",
    ),
    case(
        "mismatch01",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
To: sip:j.user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3.$CALLID
CSeq: 8 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
l: 0

""",
        {400, DROPPED, 200},
        note="3.1.2.17 invalid: CSeq method is not the Request-Line's",
    ),
    case(
        "mismatch02",
        """NEWMETHOD sip:user@$HOST:$PORT SIP/2.0
To: sip:j.user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3.$CALLID
CSeq: 8 INVITE
Contact: <sip:caller@$LHOST:$LPORT>
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Content-Type: application/sdp
l: $CL

"""
        + SDP,
        {400, 501, DROPPED},
        {501},
        note="3.1.2.18 invalid: unknown method, CSeq says INVITE",
    ),
    case(
        "multi01",
        """INVITE sip:user@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 70
Max-Forwards: 69
From: sip:caller@$LHOST:$LPORT;tag=3413415
To: sip:user@$HOST:$PORT
To: sip:other@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=2342342343
Call-ID: multi01.98asdh@192.0.2.1.$CALLID
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2.$CALLID
Contact: <sip:caller@$LHOST:$LPORT>
Content-Type: application/sdp
Content-Length: $CL

"""
        + SDP,
        {400, DROPPED, 200},
        note="3.1.2.19 invalid: several From/To/Call-ID/Max-Forwards",
    ),
    case(
        "mcl01",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
To: sip:user@$HOST:$PORT
From: sip:other@$LHOST:$LPORT;tag=OLWtoiuQQA
Call-ID: mcl01.fhuiwehfiuwehf.$CALLID
Max-Forwards: 70
CSeq: 1 OPTIONS
Content-Length: 0
Content-Length: 193
l: 55

""",
        PARSER | {200},
        note="3.1.2.20 invalid: three Content-Length values",
    ),
    case(
        "bcast",
        """SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 0

""",
        {DROPPED},
        note="3.1.2.21 a response whose second Via is broadcast: stray, ignored",
    ),
    case(
        "bigcode",
        """SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0

""",
        {DROPPED},
        note="3.1.2.22 a response with an overlarge status code",
    ),
]
