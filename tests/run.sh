#!/bin/bash
# Run every test of ctflowd and end with "N passed, N failed".
#
# A step is anything that prints "PASS: ..." / "FAIL: ..." lines (unit test
# binaries, integration scripts) or a single named check (builds, cppcheck,
# fuzz runs).  A step that exits non-zero without printing a FAIL line counts
# as one failure, so nothing fails silently.  Logs: build/test-logs/.
#
#   tests/run.sh              everything
#   tests/run.sh integ NAME   one integration test (tests/integ/NAME.sh)
#   tests/run.sh listen [NAME]  the SNMP tests against ctflowd's own listener
set -u
cd "$(dirname "$0")/.."
LOGS=build/test-logs
mkdir -p "$LOGS"
PASSED=0 FAILED=0
START=$(date +%s)
JOBS=$(nproc 2>/dev/null || echo 2)

record() { # record LOGFILE RC NAME: count the PASS/FAIL lines of a step
	local log=$1 rc=$2 name=$3 p f
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	grep -E '^(PASS|FAIL): |^  # ' "$log"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: exited $rc without reporting a failure (log: $log)"
		tail -n 15 "$log" | sed 's/^/  # /'
		f=1
	fi
	PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
}

step() { # step NAME CMD...: a single named check
	local name=$1 log="$LOGS/$1.log" rc; shift
	"$@" >"$log" 2>&1; rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS: $name"; PASSED=$((PASSED + 1))
	else
		echo "FAIL: $name (log: $log)"; tail -n 20 "$log" | sed 's/^/  # /'; FAILED=$((FAILED + 1))
	fi
	return $rc
}

suite() { # suite NAME CMD...: a step that reports its own PASS/FAIL lines
	local name=$1 log="$LOGS/$1.log" rc; shift
	"$@" >"$log" 2>&1; rc=$?
	record "$log" $rc "$name"
}

units() { # units BUILD_DIR PREFIX
	local t
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		suite "$2$(basename "$t")" "$t" tests/data
	done
}

integ() {
	local t
	for t in tests/integ/${1:-*}.sh; do
		suite "integ-$(basename "$t" .sh)" bash "$t"
	done
}

# The SNMP tests again, against ctflowd's own listener (snmp = listen)
# instead of snmpd over AgentX: the same checks, the same MIBs.
LISTEN_TESTS="snmp snmp_large traps thresholds_set ipfix_mib nagios icinga prometheus zabbix cacti valgrind"
integ_listen() {
	local t
	for t in ${1:-$LISTEN_TESTS}; do
		suite "integ-$t-listen" env SNMP_MODE=listen bash "tests/integ/$t.sh"
	done
}

if [ "${1:-}" = integ ] || [ "${1:-}" = listen ]; then
	make -s -j"$JOBS" WERROR=1 all tools >/dev/null &&
		if [ "$1" = integ ]; then integ "${2:-*}"; else integ_listen "${2:-}"; fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]; exit
fi

step build-gcc-werror make -s -j"$JOBS" WERROR=1 all unit-bin tools
step build-clang-werror make -s -j"$JOBS" BUILD=build/clang CC=clang WERROR=1 all unit-bin
# CTFLOW-MIB must be clean at smilint's strictest useful level (the modules
# it imports from mibs/ietf) and load in net-snmp's own parser.
# conf/cacti is what its generator writes (a hand edit there would be lost).
step cacti-templates-generated sh -c 'd=$(mktemp -d) && python3 conf/cacti/gen_templates.py "$d" &&
	for f in "$d"/*; do cmp "$f" "conf/cacti/$(basename "$f")" || exit 1; done; rm -rf "$d"'
step smilint-ctflow-mib sh -c 'out=$(SMIPATH=mibs/ietf smilint -l 6 -s mibs/CTFLOW-MIB 2>&1);
	echo "$out"; [ -z "$out" ]'
step mib-loads-in-net-snmp sh -c 'SNMP_PERSISTENT_DIR="$(pwd)/build/snmp-persist" MIBS= snmptranslate \
	-M +mibs:mibs/ietf -m CTFLOW-MIB -On CTFLOW-MIB::ctflowAggOctets | grep -qx ".1.3.6.1.4.1.32473.1.3.1.21"'
# Layers only call downward (tests/lib/layers.py names the order); no source
# file over 600 lines.
step layers python3 tests/lib/layers.py subagent
step file-sizes sh -c 'wc -l subagent/*.c subagent/*.h | awk '"'"'$2 != "total" && $1 > 600 { print; bad = 1 } END { exit bad }'"'"''
step cppcheck cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	--std=c11 --inline-suppr -D__GNUC__ -D_GNU_SOURCE -Isubagent subagent tests/unit tests/tools tests/fuzz bench
units build/gcc ""
if step build-asan-ubsan make -s -j"$JOBS" BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" WERROR=1 all unit-bin; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 units build/asan "asan-"
fi
# Bounded fuzz runs; the corpora start from real kernel messages and the
# reference config, and grow in build/ (never in the source tree).
if step build-fuzzers make -s fuzz-bin; then
	python3 tests/fuzz/seeds.py build/fuzz/corpus-ctparse build/fuzz/corpus-conf
	step fuzz-ctparse build/fuzz/fuzz_ctparse -max_total_time="${FUZZ_SECONDS:-60}" \
		-rss_limit_mb=1024 -print_final_stats=1 build/fuzz/corpus-ctparse
	step fuzz-conf build/fuzz/fuzz_conf -max_total_time="${FUZZ_SECONDS:-30}" \
		-rss_limit_mb=1024 -print_final_stats=1 build/fuzz/corpus-conf
	mkdir -p build/fuzz/corpus-snmpidx
	step fuzz-snmpidx build/fuzz/fuzz_snmpidx -max_total_time="${FUZZ_SECONDS:-30}" \
		-rss_limit_mb=1024 -print_final_stats=1 build/fuzz/corpus-snmpidx
	mkdir -p build/fuzz/corpus-ipfix
	step fuzz-ipfix build/fuzz/fuzz_ipfix -max_total_time="${FUZZ_SECONDS:-30}" \
		-rss_limit_mb=1024 -print_final_stats=1 build/fuzz/corpus-ipfix
	mkdir -p build/fuzz/corpus-state
	step fuzz-state build/fuzz/fuzz_state -max_total_time="${FUZZ_SECONDS:-30}" \
		-rss_limit_mb=1024 -print_final_stats=1 build/fuzz/corpus-state
	mkdir -p build/fuzz/corpus-creds
	cp conf/snmp-credentials.example build/fuzz/corpus-creds/example
	step fuzz-creds build/fuzz/fuzz_creds -max_total_time="${FUZZ_SECONDS:-30}" \
		-rss_limit_mb=1024 -print_final_stats=1 build/fuzz/corpus-creds
fi
integ
integ_listen

echo "# took $(( $(date +%s) - START )) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
