#!/usr/bin/env python3
"""QOTD (RFC 865) over UDP for xinetd's `wait = yes` dgram service: the socket is fd 0.

xinetd has no internal QOTD, so the test's xinetd runs this as the qotd server. It answers each
datagram with a quote and exits after a few idle seconds (xinetd restarts it on the next one).
"""
import select
import socket

QUOTE = (b"The quieter you become, the more you are able to hear. Measure before you accuse: a report is a claim, "
         b"a probe is a fact. -- klartext test quote\r\n")

s = socket.socket(fileno=0)
while select.select([s], [], [], 3.0)[0]:
    data, peer = s.recvfrom(2048)
    s.sendto(QUOTE, peer)
