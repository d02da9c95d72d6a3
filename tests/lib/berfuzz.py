#!/usr/bin/env python3
"""Throw malformed SNMP messages at an agent: berfuzz.py HOST PORT COUNT SEED

Starts from well-formed messages (SNMPv2c GET, GETNEXT, GETBULK and SET,
an SNMPv3 discovery) and sends COUNT variants: bytes flipped, truncated at
every length, lengths that claim more than there is (up to 2^32-1), tags
swapped, deep nesting, oversized OIDs and integers, pure noise.  Prints
"sent N" and exits 0; the agent must survive and count them."""
import random
import socket
import sys


def length(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + length(len(body)) + body


def integer(v):
    return tlv(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def octets(s):
    return tlv(0x04, s)


def oid(dotted):
    subs = [int(x) for x in dotted.strip(".").split(".")]
    body = bytes([subs[0] * 40 + subs[1]])
    for s in subs[2:]:
        enc = [s & 0x7F]
        s >>= 7
        while s:
            enc.append(0x80 | (s & 0x7F))
            s >>= 7
        body += bytes(reversed(enc))
    return tlv(0x06, body)


def v2c(pdu_tag, oids, community=b"public", a=0, b=0, value=b"\x05\x00"):
    vbs = b"".join(tlv(0x30, oid(o) + value) for o in oids)
    pdu = tlv(pdu_tag, integer(random.randrange(1 << 31)) + integer(a) + integer(b) +
              tlv(0x30, vbs))
    return tlv(0x30, integer(1) + octets(community) + pdu)


def v3_discovery():
    header = tlv(0x30, integer(random.randrange(1 << 31)) + integer(65507) + octets(b"\x04") +
                 integer(3))
    usm = octets(tlv(0x30, octets(b"") + integer(0) + integer(0) + octets(b"") + octets(b"") +
                     octets(b"")))
    scoped = tlv(0x30, octets(b"") + octets(b"") +
                 tlv(0xA0, integer(1) + integer(0) + integer(0) + tlv(0x30, b"")))
    return tlv(0x30, integer(3) + header + usm + scoped)


ROOT = "1.3.6.1.4.1.32473"


def seeds():
    return [
        v2c(0xA0, ["1.3.6.1.2.1.1.1.0", ROOT + ".1.1.4.0"]),
        v2c(0xA1, [ROOT + ".1.3.1.21"]),
        v2c(0xA5, [ROOT + ".1.3", ROOT + ".1.5"], a=0, b=50),
        v2c(0xA3, [ROOT + ".1.5.1.22.7"], community=b"private", value=integer(4)),
        v3_discovery(),
    ]


def mutate(msg, rnd):
    m = bytearray(msg)
    kind = rnd.randrange(9)
    if kind == 0:  # flip bytes
        for _ in range(rnd.randint(1, 8)):
            m[rnd.randrange(len(m))] = rnd.randrange(256)
    elif kind == 1:  # truncate
        m = m[:rnd.randrange(len(m))]
    elif kind == 2:  # a length that claims too much
        i = rnd.randrange(1, len(m))
        m[i:i + 1] = rnd.choice([b"\x84\xff\xff\xff\xff", b"\x82\xff\xff", b"\xff", b"\x80",
                                 b"\x89" + bytes(9)])
    elif kind == 3:  # a tag swapped
        m[rnd.randrange(len(m))] = rnd.choice([0x02, 0x04, 0x05, 0x06, 0x30, 0x40, 0x41, 0x46,
                                               0x80, 0x81, 0x82, 0xA0, 0xA1, 0xA2, 0xA5, 0xA8])
    elif kind == 4:  # deep nesting
        depth = rnd.randint(50, 2000)
        m = bytearray(b"\x30\x84\x00\x00\x10\x00" * depth)
    elif kind == 5:  # an OID of many sub-identifiers, some beyond 32 bits
        subs = ".".join(str(rnd.choice([0, 1, 127, 128, 2**32 - 1, 2**32, 2**63])) for _ in
                        range(rnd.randint(1, 300)))
        m = bytearray(v2c(rnd.choice([0xA0, 0xA1, 0xA5]), [ROOT + "." + subs]))
    elif kind == 6:  # huge integers where small ones belong
        m = bytearray(tlv(0x30, tlv(0x02, bytes([0x7f]) * rnd.randint(5, 40)) + octets(b"public")
                          + tlv(0xA5, tlv(0x02, b"\xff" * 9) * 3 + tlv(0x30, b""))))
    elif kind == 7:  # noise
        m = bytearray(rnd.randbytes(rnd.randint(0, 1400)))
    else:  # a duplicated or repeated tail
        i = rnd.randrange(len(m))
        m = m + m[i:] * rnd.randint(1, 20)
    return bytes(m[:65000])


def main():
    host, port, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rnd = random.Random(seed)
    random.seed(seed)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    base = seeds()
    for i in range(count):
        s.sendto(mutate(rnd.choice(base), rnd), (host, port))
        if i % 200 == 199:  # paced: the point is the parser, not the socket buffer
            import time
            time.sleep(0.01)
    print("sent %d" % count)


if __name__ == "__main__":
    main()
