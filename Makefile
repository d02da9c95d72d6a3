# ctflowd: conntrack flow accounting agent.
#
#   make           build subagent/ctflowd
#   make check     install test dependencies, build, run every test; ends "N passed, N failed"
#   make check-cacti  only the Cacti test (conf/cacti with Debian's Cacti)
#   make check-listen the SNMP tests against ctflowd's own SNMP listener
#   make check-nms    the NMS tests: Nagios, Icinga 2, Prometheus, Zabbix, Cacti
#   make demo      run the whole pipeline on real traffic in namespaces it creates
#   make demo-fleet  three gateways into one collector and PostgreSQL
#   make bench     performance comparison; writes bench/report.md
#
# BUILD selects the object directory, so sanitizer and clang builds live beside
# the normal one (tests/run.sh uses BUILD=build/asan, build/clang, ...).

CC ?= cc
BUILD ?= build/gcc
OPT ?= -O2 -g
SAN ?=
WERROR ?=

WARN = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
       -Wpointer-arith -Wvla -Wcast-qual -Wundef -Wnull-dereference
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -pthread $(OPT) $(SAN) $(WARN) $(if $(WERROR),-Werror) \
             -Isubagent $(shell pkg-config --cflags libmnl 2>/dev/null) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl) -pthread $(LDLIBS)

# By layer: base, kernel, accounting, aggregation, alarms, outputs.
CORE = base_log base_clock base_hash base_lock base_loop base_store base_journal base_conf \
       kern_sys kern_ctparse kern_ctsock kern_dumper kern_check \
       acct_table acct_track \
       agg_key agg_order agg_table agg_usage agg_profile agg_conf \
       alarm_def alarm_thresh alarm_period alarm_health alarm_notify \
       out_json out_state snmp_index snmp_creds ipfix_enc ipfix_rec ipfix_session ipfix_pump ipfix_transport ipfix_export \
       ipfix_conf ctflowd_conf
CORE_OBJS = $(CORE:%=$(BUILD)/%.o)
# The SNMP layer: the only objects that include net-snmp headers.
SNMP = snmp_agent mib_table mib_collector mib_profile mib_agg mib_top mib_usage mib_threshold mib_alarm \
       mib_notify mib_ipfix mib_system snmp_listen
SNMP_OBJS = $(SNMP:%=$(BUILD)/%.o)
# The daemon: wires the layers together.
DAEMON_SRCS = main ctflowd_run ctflowd_reload ctflowd_view
DAEMON_OBJS = $(DAEMON_SRCS:%=$(BUILD)/%.o)
SNMP_LIBS = -lnetsnmpagent -lnetsnmp
UNIT_TESTS = test_store test_ctparse test_track test_agg test_conf test_loop test_snmpidx test_ipfix test_mibtree test_alarm \
             test_notify test_ipfix_session test_creds test_usage
UNIT_BINS = $(UNIT_TESTS:%=$(BUILD)/tests/%)
TOOLS = flowgen nlcapture udpburst ctlisten ipfixsink ctrecord
TOOL_BINS = $(TOOLS:%=build/tools/%)

ifeq ($(BUILD),build/gcc)
DAEMON = subagent/ctflowd
else
DAEMON = $(BUILD)/ctflowd
endif

.PHONY: all check check-cacti check-listen check-nms demo demo-fleet bench tools unit-bin clean deps fuzz-bin install uninstall

# The default goal builds and does nothing else.
all: $(DAEMON)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the daemon and the kernel
# checker, CTFLOW-MIB and the standard modules it needs in a directory of
# ctflowd's own (never over a distribution's copies) with a net-snmp snippet
# that points the tools at it, the configuration reference (never over an
# existing one), the kernel-side setup, the systemd unit, man pages.
# Nothing is written into the source tree.
PREFIX ?= /usr/local
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/ctflowd
MIBDIR ?= $(DATADIR)/mibs
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
IETF_MIBS = $(notdir $(wildcard mibs/ietf/*))
INSTALLED = $(SBINDIR)/ctflowd $(SBINDIR)/ctflowd-check $(MIBDIR)/CTFLOW-MIB \
	$(IETF_MIBS:%=$(MIBDIR)/ietf/%) $(DATADIR)/snmp.conf \
	$(SYSCONFDIR)/modules-load.d/ctflowd.conf $(SYSCONFDIR)/modprobe.d/ctflowd.conf \
	$(SYSCONFDIR)/sysctl.d/60-ctflowd.conf $(SYSCONFDIR)/nftables.d/ctflowd.nft \
	$(UNITDIR)/ctflowd.service $(MANDIR)/man8/ctflowd.8 $(MANDIR)/man5/ctflowd.conf.5

install: $(DAEMON)
	install -D -m 755 subagent/ctflowd $(DESTDIR)$(SBINDIR)/ctflowd
	install -D -m 755 kmod/ctflowd-check $(DESTDIR)$(SBINDIR)/ctflowd-check
	install -D -m 644 mibs/CTFLOW-MIB $(DESTDIR)$(MIBDIR)/CTFLOW-MIB
	install -d $(DESTDIR)$(MIBDIR)/ietf
	install -m 644 $(IETF_MIBS:%=mibs/ietf/%) $(DESTDIR)$(MIBDIR)/ietf/
	printf '%s\n' '# net-snmp: where the MIB modules ctflowd serves are (include this file' \
		'# from snmp.conf with "includeFile $(DATADIR)/snmp.conf")' \
		'mibdirs +$(MIBDIR):$(MIBDIR)/ietf' 'mibs +CTFLOW-MIB:IPFIX-MIB:IPFIX-SELECTOR-MIB' \
		>$(DESTDIR)$(DATADIR)/snmp.conf
	install -D -m 644 kmod/ctflowd-modules.conf $(DESTDIR)$(SYSCONFDIR)/modules-load.d/ctflowd.conf
	install -D -m 644 kmod/ctflowd-modprobe.conf $(DESTDIR)$(SYSCONFDIR)/modprobe.d/ctflowd.conf
	install -D -m 644 kmod/ctflowd-sysctl.conf $(DESTDIR)$(SYSCONFDIR)/sysctl.d/60-ctflowd.conf
	install -D -m 644 kmod/ctflowd.nft $(DESTDIR)$(SYSCONFDIR)/nftables.d/ctflowd.nft
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' conf/ctflowd.service >$(DESTDIR)$(UNITDIR)/ctflowd.service
	install -D -m 644 conf/man/ctflowd.8 $(DESTDIR)$(MANDIR)/man8/ctflowd.8
	install -D -m 644 conf/man/ctflowd.conf.5 $(DESTDIR)$(MANDIR)/man5/ctflowd.conf.5
	[ -e $(DESTDIR)$(SYSCONFDIR)/ctflowd/ctflowd.conf ] || \
		install -D -m 644 conf/ctflowd.conf $(DESTDIR)$(SYSCONFDIR)/ctflowd/ctflowd.conf
	install -D -m 644 conf/snmpd.conf.example $(DESTDIR)$(SYSCONFDIR)/ctflowd/snmpd.conf.example
	install -D -m 600 conf/snmp-credentials.example \
		$(DESTDIR)$(SYSCONFDIR)/ctflowd/snmp-credentials.example

# Removes what install put there, and the configuration only if unchanged.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED)) $(DESTDIR)$(SYSCONFDIR)/ctflowd/snmpd.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/ctflowd/snmp-credentials.example
	cmp -s conf/ctflowd.conf $(DESTDIR)$(SYSCONFDIR)/ctflowd/ctflowd.conf && \
		rm -f $(DESTDIR)$(SYSCONFDIR)/ctflowd/ctflowd.conf || true
	-rmdir $(DESTDIR)$(SYSCONFDIR)/ctflowd $(DESTDIR)$(MIBDIR)/ietf $(DESTDIR)$(MIBDIR) \
		$(DESTDIR)$(DATADIR) 2>/dev/null

$(DAEMON): $(CORE_OBJS) $(SNMP_OBJS) $(DAEMON_OBJS)
	$(CC) $(SAN) -o $@ $^ $(SNMP_LIBS) $(LDLIBS_ALL)

$(BUILD)/%.o: subagent/%.c subagent/*.h | $(BUILD)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD):
	mkdir -p $(BUILD)/tests

unit-bin: $(UNIT_BINS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/*.h $(CORE_OBJS) | $(BUILD)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(CORE_OBJS) $(LDLIBS_ALL)

# The one unit test of the SNMP layer: the index-tree lookup.
$(BUILD)/tests/test_mibtree: tests/unit/test_mibtree.c tests/unit/*.h $(BUILD)/mib_table.o \
		$(BUILD)/base_lock.o | $(BUILD)
	$(CC) $(CFLAGS_ALL) -Itests/unit -o $@ $< $(BUILD)/mib_table.o $(BUILD)/base_lock.o \
		$(SNMP_LIBS) $(LDLIBS_ALL)

tools: $(TOOL_BINS) build/tools/iter_subagent

# The table_iterator baseline of make bench.
build/tools/iter_subagent: bench/iter_subagent.c
	@mkdir -p build/tools
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) -o $@ $< \
		$(SNMP_LIBS)

# The tests' ground truth decodes with the netfilter project's own library.
build/tools/ctrecord: tests/tools/ctrecord.c
	@mkdir -p build/tools
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) -o $@ $< \
		-lnetfilter_conntrack $(LDLIBS_ALL)

build/tools/%: tests/tools/%.c
	@mkdir -p build/tools
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(if $(WERROR),-Werror) -o $@ $< \
		$(LDLIBS_ALL) -lpthread

# libFuzzer targets: clang only.
FUZZ_SRCS = kern_ctparse base_conf base_journal ctflowd_conf agg_conf ipfix_conf alarm_def base_clock \
            agg_key agg_order agg_profile agg_table agg_usage acct_table acct_track base_hash base_log base_store \
            snmp_index snmp_creds ipfix_enc ipfix_rec
fuzz-bin: build/fuzz/fuzz_ctparse build/fuzz/fuzz_conf build/fuzz/fuzz_snmpidx build/fuzz/fuzz_ipfix \
	build/fuzz/fuzz_state build/fuzz/fuzz_creds
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS:%=subagent/%.c)
	@mkdir -p build/fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isubagent -Itests/unit \
		-o $@ $< $(FUZZ_SRCS:%=subagent/%.c) $(LDLIBS_ALL)

deps:
	@tests/deps.sh

check: deps
	@tests/run.sh

# Only the Cacti test (make check runs it too): Debian's Cacti with a private
# database imports conf/cacti and graphs real traffic.
check-cacti: deps
	@tests/run.sh integ cacti

# The NMS tests alone (make check runs them too): Nagios, Icinga 2,
# Prometheus with snmp_exporter, Zabbix, Cacti; each against real, private
# servers.
check-nms: deps
	@rc=0; for t in nagios icinga prometheus zabbix cacti; do tests/run.sh integ $$t || rc=1; done; exit $$rc

# The SNMP tests against ctflowd's own listener (snmp = listen; make check
# runs them too), and the listener's own test.
check-listen: deps
	@tests/run.sh listen && tests/run.sh integ snmp_listen

demo: deps
	@tests/demo.sh

demo-fleet: deps
	@tests/demo_fleet.sh

bench: deps
	@bench/run.sh

clean:
	rm -rf build subagent/ctflowd
