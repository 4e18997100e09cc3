"""Fail fast when an outbound INVITE goes to a UDP port where nothing listens.

pjsip sends UDP from one unconnected socket, and Linux reports an ICMP "port unreachable" only
to a *connected* socket, so pjsip never hears it: an INVITE to a dead UDP destination
retransmits until Timer B (64*T1 = 32 s) and holds one of the 4 call slots that long. So when
a leg is dialled over UDP to an IP literal, one connected, non-blocking socket of our own sends
the far end a CRLF CRLF keep-alive (RFC 5626 3.5.1; SIP servers ignore it). If the kernel then
reports ECONNREFUSED while the INVITE has had no answer at all, the INVITE transaction is ended
with 503 (RFC 3261 8.1.3.1: a transport error is a 503). The owner loop checks it each turn,
so nothing blocks; the socket is a plain Python one, none of pjlib's 64 ioqueue keys.

A far end that answers anything (even 100 Trying), a host name (resolving it here would block),
TCP, TLS, or no ICMP at all (a firewall) leaves the INVITE to pjsip's own timers.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import time

from voxpy.backends.pjsua2.sipmsg import host_part

KEEPALIVE = b"\r\n\r\n"
PROBE_LIFETIME = 5.0
"Seconds a probe waits for ICMP: far longer than any ICMP round trip, far below Timer B."


def udp_target(uri: str, outbound_proxy: str | None) -> tuple[str, int] | None:
    """Where pjsip sends the INVITE for ``uri``, if that is UDP to an IPv4 literal."""
    first_hop = outbound_proxy or uri
    if not first_hop.lower().startswith("sip:"):
        return None  # sips: is TLS
    params = first_hop.split(";")[1:]
    if any(p.lower().startswith("transport=") and p.lower() != "transport=udp" for p in params):
        return None
    hostport = host_part(first_hop)
    host, _, port_text = hostport.partition(":")
    try:
        ipaddress.IPv4Address(host)
        port = int(port_text) if port_text else 5060
    except ValueError:
        return None  # a name: pjsip resolves it (SRV may pick any port or transport)
    return (host, port) if 0 < port < 65536 else None


class DeadEndProbe:
    """One keep-alive from a connected UDP socket; :meth:`refused` reads the ICMP verdict."""

    def __init__(self, target: tuple[str, int], now: float | None = None) -> None:
        self.expires = (time.monotonic() if now is None else now) + PROBE_LIFETIME
        self._sock: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.setblocking(False)
            self._sock.connect(target)
            self._sock.send(KEEPALIVE)
        except OSError:
            self.close()  # no route, or refused already: pjsip will find out the usual way

    @property
    def open(self) -> bool:
        return self._sock is not None

    def refused(self) -> bool:
        """Whether the far end's kernel said nothing listens there (ICMP port unreachable)."""
        sock = self._sock
        if sock is None:
            return False
        try:
            sock.recv(64)  # anything else (a reply to the keep-alive) proves a listener
        except BlockingIOError:
            return False
        except ConnectionRefusedError:
            self.close()
            return True
        except OSError:
            pass
        self.close()
        return False

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
