"""The hostile-input corpus: raw SIP requests and what a ``voxpy run`` worker must answer.

Every entry is a byte template for :func:`tests.edge.rawsip.send` (``$HOST``/``$PORT`` the
worker, ``$LHOST``/``$LPORT`` our socket, ``$BRANCH``, ``$CALLID``, ``$TAG``, ``$RTPPORT``,
``$TRANSPORT``/``$TPARAM``, ``$CL`` the body length) and the set of acceptable outcomes: status
codes, or ``DROPPED`` (no final answer in time).

Groups:

* ``RFC4475``: the SIP torture messages (RFC 4475), rewritten from the RFC's examples so that the
  top Via, Contact and SDP addresses are ours (127.0.0.1) and nothing is ever sent elsewhere;
  what is tortured (whitespace, escaping, scalars, duplicated headers...) is kept.
* ``RFC5118``: IPv6 torture (RFC 5118): IPv6 in URIs, Via and SDP. This build has no IPv6
  transport: IPv6 SDP must get 488 (policy) and nothing may abort.
* ``POLICY``: one request per row of the edge-guard policy table (methods, CSeq, Min-SE...).
* ``MUTATIONS``: PROTOS-style single-field mutations of a base INVITE: each header field in turn
  gets an empty, overlong, format-string, non-UTF-8, huge-number or control-character value.
* ``SPECIALS``: oversize (5000-byte UDP and TCP), 70 Via, 70 Record-Route, long c=/o=.

``guard`` lists the codes that, when received, must come from the edge guard: one
``edge_refused`` log line with that code and our source address, a ``Server`` header and no
``Warning``. Codes pjsip answers by itself (its parser's 400) are accepted without a log line:
the guard cannot see a message pjsip failed to parse.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.edge.rawsip import DROPPED, crlf

Outcome = int | str


@dataclass(frozen=True)
class Case:
    name: str
    template: bytes
    expect: frozenset[Outcome]
    guard: frozenset[int] = frozenset()
    transports: tuple[str, ...] = ("udp",)
    timeout: float = 1.0
    note: str = ""
    allow_header: bool = False
    "The answer must carry an Allow header (405, in-dialog OPTIONS)."
    server_header: bool = True
    "Check Server: present and no Warning: (not for pjsip's own parser answers)."
    reinvite: bytes | None = None
    "SDP of a re-INVITE sent right after the ACK of a 200 (racing hello_hangup's BYE)."
    reinvite_expect: frozenset[Outcome] = frozenset()
    "Acceptable answers to that re-INVITE (481: the BYE won the race; guard codes: 488)."

    @property
    def id(self) -> str:
        return self.name


def case(
    name: str,
    template: str | bytes,
    expect: set[Outcome],
    guard: set[int] | None = None,
    **kwargs: object,
) -> Case:
    return Case(
        name,
        crlf(template),
        frozenset(expect),
        frozenset(guard if guard is not None else set()),
        **kwargs,  # type: ignore[arg-type]
    )


VIA = "Via: SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK$BRANCH"
CONTACT = "Contact: <sip:edge@$LHOST:$LPORT$TPARAM>"
SDP = """v=0
o=edge 1 1 IN IP4 $LHOST
s=-
c=IN IP4 $LHOST
t=0 0
m=audio $RTPPORT RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
"""
BASE_HEADERS = [
    ("Via", "SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK$BRANCH"),
    ("Max-Forwards", "70"),
    ("From", '"Edge" <sip:edge@$LHOST:$LPORT>;tag=$TAG'),
    ("To", "<sip:100@$HOST:$PORT>"),
    ("Call-ID", "$CALLID"),
    ("CSeq", "1 INVITE"),
    ("Contact", "<sip:edge@$LHOST:$LPORT$TPARAM>"),
    ("Content-Type", "application/sdp"),
]


def request(
    method: str = "INVITE",
    *,
    ruri: str | bytes = "sip:100@$HOST:$PORT",
    headers: list[tuple[str, str | bytes]] | None = None,
    replace: dict[str, str | bytes] | None = None,
    extra: list[tuple[str, str | bytes]] | None = None,
    body: str | bytes | None = None,
    to_tag: bool = False,
) -> bytes:
    """A well-formed request (the base INVITE by default) with headers replaced or added."""
    rows: list[tuple[str, str | bytes]] = list(headers if headers is not None else BASE_HEADERS)
    if body is None:
        body = SDP if method == "INVITE" else ""
    if not body:
        rows = [(k, v) for k, v in rows if k != "Content-Type"]
    rows = [(k, f"1 {method}" if k == "CSeq" else v) for k, v in rows]
    if to_tag:
        rows = [(k, f"{v};tag=far{method.lower()}" if k == "To" else v) for k, v in rows]
    for name, value in (replace or {}).items():
        rows = [(k, value if k == name else v) for k, v in rows]
    rows += extra or []
    uri = ruri if isinstance(ruri, bytes) else ruri.encode()
    out = method.encode() + b" " + uri + b" SIP/2.0\r\n"
    for name, value in rows:
        raw = value if isinstance(value, bytes) else value.encode()
        out += name.encode() + b": " + raw + b"\r\n"
    out += b"Content-Length: $CL\r\n\r\n" + crlf(body)
    return out


ANSWERED = {200}
PARSER = {400, DROPPED}
"What pjsip's own parser does with a message it cannot parse."
UNPARSED = {400, DROPPED}
"""A policy row pjsip's parser already rejects (today it drops the packet, with a debug log):
the guard may answer 400 (then it must log it) or let pjsip drop it."""

# ---------------------------------------------------------------------------------------------
# RFC 4475 torture messages (section numbers in the notes)
# ---------------------------------------------------------------------------------------------

RFC4475: list[Case] = [
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

# ---------------------------------------------------------------------------------------------
# RFC 5118 IPv6 torture: this build has no IPv6 transport
# ---------------------------------------------------------------------------------------------

SDP6 = """v=0
o=assistant 971731711378798081 0 IN IP6 2001:db8::20
s=Live video feed for today's meeting
c=IN IP6 2001:db8::20
t=0 0
m=audio $RTPPORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""
SDP_MIXED = """v=0
o=bob 280744730 28977631 IN IP4 $LHOST
s=
t=0 0
m=audio 22334 RTP/AVP 0
c=IN IP4 $LHOST
m=video 6024 RTP/AVP 102
c=IN IP6 2001:db8::1
a=rtpmap:102 H264/90000
"""
SDP_MAPPED = """v=0
o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2
s=Call me soon, please!
c=IN IP6 ::ffff:192.0.2.2
t=0 0
m=audio $RTPPORT RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""


def _options(ruri: str, *, extra: list[tuple[str, str | bytes]] | None = None) -> bytes:
    return request("OPTIONS", ruri=ruri, extra=extra)


RFC5118: list[Case] = [
    case(
        "ipv6-good-ruri",
        _options("sip:[2001:db8::10]"),
        {200, 404, 416, 400},
        note="4.1 a valid IPv6 reference in the Request-URI",
    ),
    case(
        "ipv6-bad-ruri",
        _options("sip:2001:db8::10"),
        {400, 404, 416, DROPPED, 200},
        note="4.2 an unbracketed IPv6 address (invalid)",
    ),
    case(
        "ipv6-port-ambiguous",
        request(
            "REGISTER",
            ruri="sip:[2001:db8::10:5070]",
            extra=[("Contact", "<sip:user@[2001:db8::10:5070]>")],
            headers=[row for row in BASE_HEADERS if row[0] != "Contact"],
        ),
        {405, 400},
        {405},
        allow_header=True,
        note="4.3 port-ambiguous IPv6 (REGISTER: refused anyway)",
    ),
    case(
        "ipv6-port-unambiguous",
        request(
            "REGISTER",
            ruri="sip:[2001:db8::10]:5070",
            extra=[("Contact", "<sip:user@[2001:db8::10]:5070>")],
            headers=[row for row in BASE_HEADERS if row[0] != "Contact"],
        ),
        {405, 400},
        {405},
        allow_header=True,
        note="4.4 port-unambiguous IPv6 (REGISTER: refused anyway)",
    ),
    case(
        "ipv6-in-via",
        _options(
            "sip:100@$HOST:$PORT",
            extra=[
                ("Via", "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111"),
                ("Via", "SIP/2.0/UDP 192.0.2.1;received=[2001:db8::9:255];branch=z9hG4bKjhe"),
            ],
        ),
        {200},
        note="4.5 IPv6 in lower Vias and received= (never contacted)",
    ),
    case(
        "ipv6-sdp",
        request(body=SDP6),
        {488},
        {488},
        note="4.6 INVITE whose SDP is IPv6 only",
    ),
    case(
        "ipv6-sdp-tcp",
        request(body=SDP6),
        {488},
        {488},
        transports=("tcp",),
        note="4.6 the same over TCP",
    ),
    case(
        "ipv6-mixed-sdp",
        request(body=SDP_MIXED),
        {488},
        {488},
        note="4.7 SDP with an IPv4 and an IPv6 c= line",
    ),
    case(
        "ipv6-mapped-sdp",
        request(body=SDP_MAPPED),
        {488},
        {488},
        note="4.8 IPv4-mapped IPv6 in SDP (IN IP6 ::ffff:192.0.2.2)",
    ),
    case(
        "ipv6-origin-only",
        request(body=SDP.replace("o=edge 1 1 IN IP4 $LHOST", "o=edge 1 1 IN IP6 2001:db8::1")),
        {488},
        {488},
        note="4.? only the o= line is IPv6",
    ),
    case(
        "ipv6-update-ood",
        request("UPDATE", body=SDP6),
        {405},
        {405},
        allow_header=True,
        note="out-of-dialog UPDATE carrying IPv6 SDP: the method is refused first",
    ),
    case(
        "ipv6-contact",
        request(replace={"Contact": "<sip:edge@[2001:db8::5]>"}),
        {200, 400, 488, 416, 500},
        note="4.? IPv6 Contact with IPv4 SDP: no IPv6 transport, so the BYE cannot be sent "
        "anywhere; the process must live",
    ),
]

# ---------------------------------------------------------------------------------------------
# The edge-guard policy table, one request a row
# ---------------------------------------------------------------------------------------------

POLICY: list[Case] = [
    case("ood-invite", request(), ANSWERED, transports=("udp", "tcp")),
    case("ood-options", request("OPTIONS"), {200}, transports=("udp", "tcp")),
    case("ood-ack", request("ACK"), {DROPPED}, timeout=1.0),
    case("ood-cancel", request("CANCEL"), {481}),
    case("unknown-method", request("FOO"), {501}, {501}, transports=("udp", "tcp")),
    case(
        "indialog-options",
        request("OPTIONS", to_tag=True),
        {200},
        set(),  # an answer, not a refusal: no edge_refused line
        allow_header=True,
        note="in-dialog OPTIONS: 200 with Allow (no dialog needed)",
    ),
    *[
        case(
            f"subscribe-{event or 'no-event'}",
            request("SUBSCRIBE", extra=[("Event", event)] if event else []),
            {489},
            {489},
        )
        for event in ("presence", "dialog", "message-summary", "refer", "")
    ],
    case(
        "subscribe-indialog",
        request("SUBSCRIBE", to_tag=True, extra=[("Event", "presence")]),
        {489},
        {489},
    ),
    *[
        case(f"ood-{method.lower()}", request(method), {405}, {405}, allow_header=True)
        for method in (
            "REGISTER",
            "INFO",
            "REFER",
            "UPDATE",
            "MESSAGE",
            "NOTIFY",
            "PRACK",
            "PUBLISH",
        )
    ],
    case(
        "ood-register-tcp",
        request("REGISTER"),
        {405},
        {405},
        allow_header=True,
        transports=("tcp",),
    ),
    case(
        "cseq-2^31",
        request(replace={"CSeq": "2147483648 INVITE"}),
        UNPARSED,
        {400},
    ),
    case(
        "cseq-2^32",
        request(replace={"CSeq": "4294967296 INVITE"}),
        UNPARSED,
        {400},
    ),
    case("cseq-2^31-1", request(replace={"CSeq": "2147483647 INVITE"}), ANSWERED),
    case(
        "nonutf8-from-user",
        request(replace={"From": b'"Edge" <sip:\xff\xfe\xc3\x28@$LHOST:$LPORT>;tag=$TAG'}),
        UNPARSED,
        {400},
    ),
    case(
        "nonutf8-from-display",
        request(replace={"From": b'"\xc0\xaf\xed\xa0\x80" <sip:edge@$LHOST:$LPORT>;tag=$TAG'}),
        {400},
        {400},
    ),
    case(
        "nonutf8-ruri-user",
        request(ruri=b"sip:\xff\xfe@$HOST:$PORT"),
        UNPARSED,
        {400},
    ),
    case(
        "session-expires-garbage",
        request(extra=[("Session-Expires", "abc;refresher=uac")]),
        UNPARSED,
        {400},
    ),
    case("session-expires-float", request(extra=[("Session-Expires", "1800.5")]), UNPARSED, {400}),
    case("min-se-garbage", request(extra=[("Min-SE", "%n%n%n")]), UNPARSED, {400}),
    case("min-se-negative", request(extra=[("Min-SE", "-90")]), UNPARSED, {400}),
    case("replaces-garbage", request(extra=[("Replaces", ";;;@@==;")]), UNPARSED, {400}),
    case("replaces-no-tags", request(extra=[("Replaces", "abc@host")]), {400}, {400}),
    case(
        "replaces-empty-tags",
        request(extra=[("Replaces", "abc@host;to-tag=;from-tag=")]),
        {400},
        {400},
    ),
]


# ---------------------------------------------------------------------------------------------
# PROTOS-style single-field mutations of the base INVITE
# ---------------------------------------------------------------------------------------------

VALUES: dict[str, bytes] = {
    "empty": b"",
    "overlong": b"A" * 1500,
    "fmt": b"%s%n%x%p" * 16,
    "nonutf8": b"\xff\xfe\xc3\x28\xed\xa0\x80",
    "huge": b"99999999999999999999",
    "ctrl": b"\x01\x1b[31m\x7f",
}
# field -> where the value goes, its shape ({v} the value), and whether pjsip's own parser
# rejects non-UTF-8 there (then the packet may be dropped before the guard sees it; measured
# against pjsua2 2.15.1: it tolerates it in display names, Call-ID, Supported, Replaces, Accept
# and unknown headers, so there the guard itself must answer 400).
FIELDS: dict[str, tuple[str, bytes, bool]] = {
    "ruri-user": ("@ruri", b"sip:{v}@$HOST:$PORT", True),
    "from-user": ("From", b'"Edge" <sip:{v}@$LHOST:$LPORT>;tag=$TAG', True),
    "from-display": ("From", b'"{v}" <sip:edge@$LHOST:$LPORT>;tag=$TAG', False),
    "from-tag": ("From", b'"Edge" <sip:edge@$LHOST:$LPORT>;tag={v}', True),
    "to-user": ("To", b"<sip:{v}@$HOST:$PORT>", True),
    "call-id": ("Call-ID", b"{v}", False),
    "cseq-number": ("CSeq", b"{v} INVITE", True),
    "max-forwards": ("Max-Forwards", b"{v}", True),
    "via-branch": ("Via", b"SIP/2.0/$TRANSPORT $LHOST:$LPORT;rport;branch=z9hG4bK{v}", True),
    "contact-user": ("Contact", b"<sip:{v}@$LHOST:$LPORT>", True),
    "content-type": ("Content-Type", b"{v}", True),
    "user-agent": ("+User-Agent", b"{v}", False),
    "subject": ("+Subject", b"{v}", False),
    "x-header": ("+X-Tenant", b"{v}", False),
    "supported": ("+Supported", b"{v}", False),
    "session-expires": ("+Session-Expires", b"{v}", True),
    "min-se": ("+Min-SE", b"{v}", True),
    "replaces": ("+Replaces", b"{v}", False),
    "accept": ("+Accept", b"{v}", False),
    "expires": ("+Expires", b"{v}", True),
}


def _mutation(field_name: str, value_name: str) -> Case:
    where, shape, parsed = FIELDS[field_name]
    raw = shape.replace(b"{v}", VALUES[value_name])
    if where == "@ruri":
        template = request().replace(b"sip:100@$HOST:$PORT SIP/2.0", raw + b" SIP/2.0", 1)
    elif where.startswith("+"):
        template = request(extra=[(where[1:], raw)])
    else:
        template = request(replace={where: raw})
    expect: set[Outcome]
    guard: set[int] = set()
    if value_name == "nonutf8":  # policy: 400, from the guard unless pjsip's parser got there
        expect, guard = (UNPARSED if parsed else {400}), {400}
    elif field_name in ("session-expires", "min-se", "replaces") and value_name != "huge":
        expect, guard = UNPARSED, {400}  # policy: not a number / malformed Replaces: 400
    elif field_name == "replaces":
        expect, guard = UNPARSED | {481}, {400}
    elif field_name == "cseq-number" and value_name == "huge":
        expect = {400, DROPPED}
    else:  # no policy: any answer, or a drop, as long as the process lives
        expect = {DROPPED, *range(200, 700)}
    return Case(
        f"{field_name}-{value_name}",
        template,
        frozenset(expect),
        frozenset(guard),
        server_header=False,
        note="single-field mutation",
    )


MUTATIONS: list[Case] = [_mutation(f, v) for f in FIELDS for v in VALUES]

# ---------------------------------------------------------------------------------------------
# Sizes and counts
# ---------------------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    """The base INVITE padded with an X-Pad header to ``size`` bytes once filled."""
    base = request(extra=[("X-Pad", "$PAD")])
    return base.replace(b"$PAD", b"p" * max(0, size - len(base) - 60))


def _many(name: str, count: int, value: str) -> list[tuple[str, str | bytes]]:
    return [(name, value.format(i=i)) for i in range(count)]


SPECIALS: list[Case] = [
    case(
        "oversize-udp-5000",
        _padded(5000),
        {513},
        {513},
        note="fills pjsip's 4000-byte buffer: truncated, so 513",
    ),
    case(
        "oversize-udp-3990",
        _padded(3990),
        {513, 200, 400, DROPPED},
        note="just under (or at) the buffer: any answer, the process lives",
    ),
    case(
        "oversize-tcp-5000",
        _padded(5000),
        {513, 400, DROPPED},
        transports=("tcp",),
        server_header=False,
        note="5000 bytes over TCP: more than pjsip's buffer",
    ),
    case(
        "long-c-300",
        request(body=SDP.replace("c=IN IP4 $LHOST", "c=IN IP4 " + "a" * 296 + ".com")),
        {488},
        {488},
        transports=("udp", "tcp"),
        note="c= address of 300 characters",
    ),
    case(
        "long-o-300",
        request(body=SDP.replace("o=edge 1 1 IN IP4 $LHOST", "o=edge 1 1 IN IP4 " + "b" * 300)),
        {488},
        {488},
        note="o= address of 300 characters",
    ),
    case(
        "long-c-254",
        request(body=SDP.replace("c=IN IP4 $LHOST", "c=IN IP4 " + "c" * 254)),
        {488},
        {488},
        note="c= address one past the 253-character limit",
    ),
    case(
        "via-70",
        request(
            extra=_many("Via", 69, "SIP/2.0/UDP 192.0.2.{i};branch=z9hG4bKv{i}"),
        ),
        {DROPPED, *range(200, 700)},
        note="70 Via headers; lower Vias are never contacted",
    ),
    case(
        "record-route-70",
        request(extra=_many("Record-Route", 70, "<sip:127.0.0.1:$LPORT;lr;n={i}>")),
        {DROPPED, *range(200, 700)},
        timeout=4.0,
        note="70 Record-Route headers (all pointing back at us)",
    ),
    case(
        "nonutf8-from-user-tcp",
        request(replace={"From": b'"Edge" <sip:\xff\xfe\xc3\x28@$LHOST:$LPORT>;tag=$TAG'}),
        UNPARSED,
        {400},
        transports=("tcp",),
    ),
]

REINVITE_OK = frozenset({488, 481, DROPPED})
"""A re-INVITE right after the ACK races the scenario's BYE: 488 from the guard, or 481 when the
dialog is already gone, or no answer at all if the engine tore the dialog down first. What
matters most is the worker surviving it."""
SPECIALS += [
    Case(
        "reinvite-ipv6-sdp",
        request(),
        frozenset(ANSWERED),
        reinvite=crlf(SDP6),
        reinvite_expect=REINVITE_OK,
        note="re-INVITE whose SDP is IPv6: 488",
    ),
    Case(
        "reinvite-long-c-300",
        request(),
        frozenset(ANSWERED),
        reinvite=crlf(SDP.replace("c=IN IP4 $LHOST", "c=IN IP4 " + "a" * 296 + ".com")),
        reinvite_expect=REINVITE_OK,
        note="re-INVITE with a 300-character c= address: 488",
    ),
]

GROUPS: dict[str, list[Case]] = {
    "rfc4475": RFC4475,
    "rfc5118": RFC5118,
    "policy": POLICY,
    "mutations": MUTATIONS,
    "specials": SPECIALS,
}
ALL: list[Case] = [c for group in GROUPS.values() for c in group]
