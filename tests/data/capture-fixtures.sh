#!/bin/bash
# Regenerate the parser's fixtures from a real kernel: DESTROY events and a
# dump, for IPv4 and IPv6, TCP, UDP, ICMP, ICMPv6, SNAT and DNAT, recorded by
# tests/tools/nlcapture next to conntrack's own view of the same events.
#   tests/data/capture-fixtures.sh   (root; writes tests/data/*.hex, *.txt)
TEST_NAME=capture
. "$(dirname "$0")/../lib/netns.sh"
D=$TOP/tests/data
topo_up
bg_in "$NS_S" "$T/tcp.out" "$TOOLS/flowgen" tcp-server 80
bg_in "$NS_S" "$T/udp.out" "$TOOLS/flowgen" udp-server 53
bg_in "$NS_R" "$D/destroy.txt" stdbuf -oL conntrack -E -e DESTROY -o extended,id
bg_in "$NS_R" "$D/destroy.hex" "$TOOLS/nlcapture" events 30
sleep 0.5
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 80 1000 2000
ip netns exec "$NS_C" "$TOOLS/flowgen" udp-client 10.201.2.2 53 2 64
ip netns exec "$NS_C" ping -q -c 2 -i 0.2 10.201.2.2 >/dev/null
ip netns exec "$NS_C" "$TOOLS/flowgen" udp-client fd01:2::2 53 3 100
ip netns exec "$NS_C" ping -q -c 2 -i 0.2 fd01:2::2 >/dev/null
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.1.1 8080 300 400      # DNAT
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.3 80 500 600        # SNAT
ip netns exec "$NS_C" "$TOOLS/flowgen" tcp-client 10.201.2.2 80 100000 100 200000 &
LONG=$!
sleep 0.3
ip netns exec "$NS_R" "$TOOLS/nlcapture" dump > "$D/dump.hex"
wait $LONG
sleep 0.5
ip netns exec "$NS_R" conntrack -F 2>/dev/null
sleep 2
sed -i 's/ \[USERSPACE\] portid=[0-9]*//' "$D/destroy.txt"
echo "captured $(wc -l < "$D/destroy.hex") events, $(wc -l < "$D/dump.hex") dump rows"
