#!/bin/bash
# bench/profile.sh: where ctflowd's event path spends its CPU under churn.
#
#   bench/profile.sh [RATE [SECONDS]]    (root; default 50000 flows/s, 10 s)
#
# A generator namespace sends UDP flows at RATE into a tracking namespace
# (tests/lib/rig.sh pair) whose UDP timeout is 1 s, so that every flow ends
# one expired entry: one DESTROY event per flow.  ctflowd runs there with
# its three default profiles and an IPFIX collector on its loopback.  perf
# samples ctflowd's event thread (cpu-clock: hardware counters are often
# not there in a VM) and the report, bench/profile.md, gives the CPU per
# event, the kernel's share, each layer's share (by the source file that
# defines the function) and the top functions, and the bare listener's CPU
# per event on the same stream (the floor) with ctflowd's ratio to it.
# Everything it creates is removed at the end.  bench/profile-before.md is
# the same report from before the event path's batch keys (issue history).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lib/rig.sh"
RATE=${1:-50000} SECS=${2:-10}
TOOLS=$TOP/build/tools CTFLOWD=$TOP/subagent/ctflowd
A=cftprof$$-a B=cftprof$$-b
W=$(mktemp -d /tmp/ctflowd-profile.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${ORIG_RMEM:-}" ] && sysctl -qw net.core.rmem_max="$ORIG_RMEM"
	rig_down "$A" "$B"
	rm -rf "$W"
}
trap cleanup EXIT
command -v perf >/dev/null || { echo "profile: perf is not installed (linux-perf)" >&2; exit 1; }
make -s -C "$TOP" all tools || exit 1
ORIG_RMEM=$(sysctl -n net.core.rmem_max)
sysctl -qw net.core.rmem_max=1073741824
rig_ns_add "$A" && rig_ns_add "$B" && rig_pair "$A" "$B" 10.209 || { echo "profile: namespaces" >&2; exit 1; }
ip netns exec "$B" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 net.netfilter.nf_conntrack_udp_timeout_stream=1
ip netns exec "$B" nft -f - <<'EOF'
table inet cftlo {
	chain o { type filter hook output priority raw; oif lo notrack; }
	chain p { type filter hook prerouting priority raw; iif lo notrack; }
}
EOF
ip netns exec "$B" "$TOOLS/udpburst" sink 9000 300 >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$B" "$TOOLS/ipfixsink" udp 4739 "$W/u.ipfix" >/dev/null 2>&1 &
PIDS+=($!)
cat >"$W/c.conf" <<EOF
state_dir = $W/state
dump_file = $W/t.json
snmp = no
rcvbuf = 1G
rcvbuf_max = 1G
[collector sink]
address = 127.0.0.1
port = 4739
EOF
ip netns exec "$B" "$CTFLOWD" -d -f "$W/c.conf" >"$W/ctflowd.log" 2>&1 &
CP=$!
PIDS+=("$CP")
for i in $(seq 1 100); do grep -q started "$W/ctflowd.log" && break; sleep 0.1; done
grep -q started "$W/ctflowd.log" || { echo "profile: ctflowd did not start" >&2; exit 1; }
# fill the tuple space once, unmeasured, and let it expire
SPACE=$((RATE * 2))
ip netns exec "$A" "$TOOLS/udpburst" send 10.209.0.2 9000 "$SPACE" 10.209.128.0 4096 >/dev/null 2>&1
sleep 1.5
ip netns exec "$A" "$TOOLS/udpburst" send 10.209.0.2 9000 $((RATE * (SECS + 4))) 10.209.128.0 4096 \
	"$RATE" $((SECS + 4)) >"$W/gen.out" 2>&1 &
GP=$!
PIDS+=("$GP")
# the floor, on the same stream: the bare listener (recvmmsg and a count)
ip netns exec "$B" "$TOOLS/ctlisten" $((64 << 20)) >"$W/bare.out" 2>&1 &
BP=$!
PIDS+=("$BP")
sleep 2
events() { kill -USR1 "$CP"; sleep 0.5; python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['collector']['events'])" "$W/t.json"; }
e0=$(events)
t0=$(awk '{print $14 + $15}' "/proc/$CP/task/$CP/stat")
perf record -q -e cpu-clock -F 4000 -g -t "$CP" -o "$W/perf.data" -- sleep "$SECS" >/dev/null 2>&1
t1=$(awk '{print $14 + $15}' "/proc/$CP/task/$CP/stat")
e1=$(events)
wait "$GP"
sleep 1
bare_ticks=$(awk '{print $14 + $15}' "/proc/$BP/stat")
kill "$BP"
wait "$BP" 2>/dev/null
bare_events=$(awk '{for (i = 1; i < NF; i++) if ($i == "events") print $(i + 1)}' "$W/bare.out")
perf report -i "$W/perf.data" --no-children --sort dso,sym,srcfile --stdio -g none 2>/dev/null |
	grep -E '^ +[0-9.]+%' >"$W/syms.txt"
python3 - "$W/syms.txt" "$TOP/subagent" "$((e1 - e0))" "$((t1 - t0))" "$(getconf CLK_TCK)" \
	"$RATE" "$SECS" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)" "${bare_events:-0}" \
	"$bare_ticks" >"$TOP/bench/profile.md" <<'EOF'
import glob, os, re, sys  # noqa: E401
syms, src, events, ticks, hz, rate, secs, rev, bare_events, bare_ticks = sys.argv[1:]
events, ticks, hz = int(events), int(ticks), int(hz)
bare_events, bare_ticks = int(bare_events), int(bare_ticks)
# a function's layer: the prefix of the source file perf names for it
ours = {os.path.basename(p) for p in glob.glob(os.path.join(src, "*.c"))}
rows, layers = [], {}
for line in open(syms):
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(\S+)\s*(\S*)", line)
    if not m:
        continue
    pct, dso, kind, sym, f = float(m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5)
    if kind == "k":
        layer, f = "kernel (netlink receive, copies, scheduling)", "kernel"
    elif f in ours:
        layer = f.split("_")[0] + "_" if "_" in f else f
    elif "libc" in dso:
        layer = "libc (recvmmsg, send, poll, memcmp, memcpy)"
    else:
        layer = "other (%s)" % dso
    layers[layer] = layers.get(layer, 0) + pct
    rows.append((pct, sym, f or dso))
cpu_s = ticks / hz
print("# Where the event path's CPU goes\n")
print("`bench/profile.sh %s %s` (commit %s): UDP churn at %s flows/s, one DESTROY each, "
      "ctflowd with its three default profiles and an IPFIX collector; perf samples "
      "its event thread (cpu-clock) for %s s.\n" % (rate, secs, rev, rate, secs))
print("- events in the window: %d; the event thread's CPU: %.2f s; **%.2f us per event**"
      % (events, cpu_s, 1e6 * cpu_s / events if events else 0))
us = 1e6 * cpu_s / events if events else 0
bare_us = 1e6 * bare_ticks / hz / bare_events if bare_events else 0
print("- the bare listener (tests/tools/ctlisten: recvmmsg and a count, the floor) on the same "
      "stream: %d events, **%.2f us per event**; ctflowd takes **%.2f x** the floor\n"
      % (bare_events, bare_us, us / bare_us if bare_us else 0))
print("| layer | share of the event thread |\n|---|---|")
for k, v in sorted(layers.items(), key=lambda kv: -kv[1]):
    print("| %s | %.1f%% |" % (k, v))
print("\n| function | file | self |\n|---|---|---|")
for pct, sym, f in sorted(rows, reverse=True)[:25]:
    print("| `%s` | %s | %.1f%% |" % (sym, f, pct))
EOF
cat "$TOP/bench/profile.md"
