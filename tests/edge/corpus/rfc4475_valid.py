"""RFC 4475 section 3.1.1 (valid but tortuous) and 3.4: what must be answered."""

from __future__ import annotations

from tests.edge.corpus.base import ANSWERED, CONTACT, DROPPED, SDP, VIA, Case, case

# ---------------------------------------------------------------------------------------------
# RFC 4475 torture messages (section numbers in the notes)
# ---------------------------------------------------------------------------------------------

RFC4475_VALID: list[Case] = [
    case(
        "wsinv",
        """INVITE sip:vivekg@$HOST:$PORT;unknownparam SIP/2.0
TO :
 sip:vivekg@$HOST:$PORT ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen@$LHOST:$LPORT>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1.$CALLID
Content-Length   : $CL
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /$TRANSPORT
    $LHOST:$LPORT;rport;branch=z9hG4bK390skdjuw$BRANCH
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:$HOST:$PORT;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen@$LHOST:$LPORT> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

v=0
o=mhandley 29739 7272939 IN IP4 $LHOST
s=-
c=IN IP4 $LHOST
t=0 0
m=audio $RTPPORT RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
""",
        {481},
        note="3.1.1.1 valid, tortuous whitespace; its To tag names no dialog of ours: 481",
    ),
    case(
        "intmeth",
        b"!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)"
        b"&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@$HOST:$PORT SIP/2.0\n"
        b"Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK-.!%66*_+`'~$BRANCH\n"
        b'To: "BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:1_unusual.URI~(to-be!sure)&isn\'t+it$/'
        b"crazy?,/;;*@$HOST:$PORT>\n"
        b"From: token1~` token2'+_ token3*%!.- <sip:mundane@$LHOST:$LPORT>;fromParam''~+*_!.-%="
        b'"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9"'
        b";tag=_token~1'+`*%!-.\n"
        b"Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{$CALLID\n"
        b"CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~\n"
        b"Max-Forwards: 255\n"
        b"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb\n"
        b"Content-Length: 0\n\n",
        {501, 400, DROPPED},
        {501},
        note="3.1.1.2 valid: an unknown method (501); NUL/BEL/DEL escaped in a quoted string",
    ),
    case(
        "esc01",
        """INVITE sip:sips%3Auser%40example.com@$HOST:$PORT SIP/2.0
To: sip:%75se%72@$HOST:$PORT
From: <sip:I%20have%20spaces@$LHOST:$LPORT>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234.$CALLID
CSeq: 234234 INVITE
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
C: application/sdp
Contact:
  <sip:cal%6Cer@$LHOST:$LPORT;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: $CL

"""
        + SDP,
        ANSWERED,
        note="3.1.1.3 valid: escaped characters in URIs",
    ),
    case(
        "escnull",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: sip:null-%00-null@$HOST:$PORT
From: sip:null-%00-null@$HOST:$PORT;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd.$CALLID
CSeq: 14398234 REGISTER
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Contact: <sip:%00@$LHOST:$LPORT>
Contact: <sip:%00%00@$LHOST:$LPORT>
L:0

""",
        {405},
        {405},
        allow_header=True,
        note="3.1.1.4 valid: escaped NULs; out-of-dialog REGISTER: 405",
    ),
    case(
        "esc02",
        """RE%47IST%45R sip:$HOST:$PORT SIP/2.0
To: "%Z%45" <sip:resource@$HOST:$PORT>
From: "%Z%45" <sip:resource@$LHOST:$LPORT>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf.$CALLID
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@$LHOST:$LPORT>
Contact: <sip:alias2@$LHOST:$LPORT>
l: 0

""",
        {501},
        {501},
        note="3.1.1.5 valid: %-escapes in a method are not escapes: an unknown method",
    ),
    case(
        "lwsdisp",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
To: sip:user@$HOST:$PORT
From: caller<sip:caller@$LHOST:$LPORT>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com.$CALLID
CSeq: 60 OPTIONS
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
l: 0

""",
        {200},
        note="3.1.1.6 valid: no LWS between display name and <",
    ),
    case(
        "longreq",
        "INVITE sip:user@$HOST:$PORT SIP/2.0\n"
        'To: "I have a user name of '
        + "extreme" * 40
        + ' proportion"<sip:user@$HOST:$PORT;unknownparam1=verylonguselessvalue'
        + "verylong" * 8
        + ">\n"
        + "F: sip:"
        + "amazinglylongcallername" * 12
        + "@$LHOST:$LPORT;tag=12982424\n"
        + "Call-ID: longreq.onereallyreallyreallyreallyverylongcallid$CALLID\n"
        + "CSeq: 3882340 INVITE\n"
        + "Unknown-"
        + "LongLong" * 10
        + "-Name: unknown-"
        + "long" * 20
        + "-value; unknown-"
        + "long" * 10
        + "-parameter-name = unknown-"
        + "long" * 10
        + "-parameter-value\n"
        + VIA
        + ";"
        + ";".join(f"longparam{i}=" + "v" * 20 for i in range(8))
        + "\n"
        + "Max-Forwards: 70\n"
        + CONTACT
        + "\n"
        + "Content-Type: application/sdp\n"
        + "l: $CL\n\n"
        + SDP,
        ANSWERED,
        transports=("udp", "tcp"),
        note="3.1.1.7 valid: long values everywhere (about 1.8 kB: over an MTU, under the buffer)",
    ),
    case(
        "dblreq",
        """REGISTER sip:$HOST:$PORT SIP/2.0
To: sip:j.user@$HOST:$PORT
From: sip:j.user@$LHOST:$LPORT;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412.$CALLID
Contact: sip:j.user@$LHOST:$LPORT
l: 0
CSeq: 8 REGISTER
Via: SIP/2.0/UDP $LHOST:$LPORT;rport;branch=z9hG4bK253$BRANCH

INVITE sip:joe@$HOST:$PORT SIP/2.0
t: sip:joe@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15.$CALLID
CSeq: 8 INVITE
Via: SIP/2.0/UDP $LHOST:$LPORT;rport;branch=z9hG4bKdblreq2$BRANCH
Contact: <sip:caller@$LHOST:$LPORT>
Content-Type: application/sdp
Content-Length: 0

""",
        {405},
        {405},
        allow_header=True,
        note="3.1.1.8 valid: two requests in one datagram; only the REGISTER counts (405)",
    ),
    case(
        "semiuri",
        """OPTIONS sip:user;par=u%40example.net@$HOST:$PORT SIP/2.0
To: sip:j_user@$HOST:$PORT
From: sip:caller@$LHOST:$LPORT;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj.$CALLID
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
l: 0

""",
        {200},
        note="3.1.1.9 valid: ; in the user part of the Request-URI",
    ),
    case(
        "transports",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
To: sip:user@$HOST:$PORT
From: <sip:caller@$LHOST:$LPORT>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj.$CALLID
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

""",
        {200},
        note="3.1.1.10 valid: every transport in lower Vias (never contacted)",
    ),
    case(
        "mpart01",
        """INVITE sip:joe@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 70
From: sip:caller@$LHOST:$LPORT;tag=1234
To: sip:joe@$HOST:$PORT
Call-ID: mpart01.$CALLID
CSeq: 1 INVITE
Contact: <sip:caller@$LHOST:$LPORT>
MIME-Version: 1.0
Content-Type: multipart/mixed;boundary=unique-boundary-1
Content-Length: $CL

--unique-boundary-1
Content-Type: application/sdp

"""
        + SDP
        + """
--unique-boundary-1
Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m
Content-Transfer-Encoding: binary

MIIBUgYJKoZIhvcNAQcCoIIBQzCCAT8CAQExCTAHBgUrDgMCGjALBgkqhkiG9w0BBwExggEgMIIBHAIBATB8
--unique-boundary-1--
""",
        {200, 415, 488},
        note="3.1.1.11 valid: multipart body with SDP and an S/MIME part",
    ),
    case(
        "unreason",
        """SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 0

""".encode("latin-1"),
        {DROPPED},
        note="3.1.1.12 valid response, unusual reason phrase: a stray response, ignored",
    ),
    case(
        "noreason",
        """SIP/2.0 100
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0

""",
        {DROPPED},
        note="3.1.1.13 valid response without reason phrase: stray, ignored",
    ),
    case(
        "inv2543",
        """INVITE sip:UserB@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport
From: <sip:UserA@$LHOST:$LPORT>;tag=8675309
To: <sip:UserB@$HOST:$PORT>
Call-ID: inv2543.$CALLID
CSeq: 1 INVITE
Contact: <sip:UserA@$LHOST:$LPORT>
Content-Type: application/sdp
Content-Length: $CL

"""
        + SDP,
        {200, 400},
        note="3.4 RFC 2543 INVITE: no branch, no Max-Forwards",
    ),
    case(
        "zeromf",
        """OPTIONS sip:user@$HOST:$PORT SIP/2.0
Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bKkdjuw$BRANCH
Max-Forwards: 0
From: <sip:caller@$LHOST:$LPORT>;tag=3ghsd41
To: <sip:user@$HOST:$PORT>
Call-ID: zeromf.$CALLID
CSeq: 1 OPTIONS
Content-Length: 0

""",
        {200, 483},
        note="3.1.2.? Max-Forwards 0 OPTIONS to the UAS itself",
    ),
]
