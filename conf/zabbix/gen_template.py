#!/usr/bin/env python3
"""Write ctflowd's Zabbix 6.0 template (Zabbix's YAML export format).

    conf/zabbix/gen_template.py [OUTFILE]      (default: stdout)

One template, "ctflowd by SNMP":
- collector health items (events received and lost, tracked flows, kernel
  accounting, restarts) and triggers on them;
- a discovery rule over ctflowProfileTable (fill, evictions);
- one discovery rule per profile of the shipped ctflowd.conf (host,
  service, pair).  Each walks only its profile's slice of ctflowAggTable
  (the profile's number is a user macro), filters rows by ctflowAggKey with
  user macros, and refuses to create items when the slice has more rows
  than {$CTFLOWD.LLD.MAX_ROWS}, so a large profile is never turned into
  hundreds of thousands of items;
- usage this month (or the period {$CTFLOWD.USAGE.PERIOD} names) of the
  host profile's rows, when that profile keeps periods: a discovery over
  its slice of ctflowUsageTable, the current period only, with triggers
  at {$CTFLOWD.USAGE.WARN}% and 100% of {$CTFLOWD.USAGE.CAP} (per row
  with the row's key as context).

The output is deterministic (every UUID is derived from the object's
path), so a regenerated file imports over the old template instead of
beside it.  `make check` verifies the committed file is what this writes.
"""
import hashlib
import sys
import uuid

TEMPLATE = "ctflowd by SNMP"
GROUP = "Templates/Network devices"
ROOT = "1.3.6.1.4.1.32473"
COLLECTOR = ROOT + ".1.1"   # collector scalars
PROFILE = ROOT + ".1.2.1"   # ctflowProfileEntry
AGG = ROOT + ".1.3.1"       # ctflowAggEntry
USAGE = ROOT + ".1.7.1"     # ctflowUsageEntry


def uid(*path):
    """A version-4 shaped UUID derived from the object's path."""
    digest = hashlib.md5("/".join(("ctflowd",) + path).encode()).digest()
    return uuid.UUID(bytes=digest, version=4).hex


def ref(key):
    return "/%s/%s" % (TEMPLATE, key)


def tags(component):
    return [{"tag": "component", "value": component}]


def snmp_item(key, name, oid, component, **extra):
    item = {"uuid": uid("item", key), "name": name, "type": "SNMP_AGENT",
            "snmp_oid": oid, "key": key, "delay": "{$CTFLOWD.INTERVAL}"}
    item.update(extra)
    item["tags"] = tags(component)
    return item


def rate_item(key, name, master, units, multiplier=None, **extra):
    """A dependent item: its master counter's change per second."""
    steps = [{"type": "CHANGE_PER_SECOND", "parameters": [""]}]
    if multiplier:
        steps.append({"type": "MULTIPLIER", "parameters": [multiplier]})
    item = {"uuid": uid("item", key), "name": name, "type": "DEPENDENT",
            "key": key, "delay": "0", "value_type": "FLOAT", "units": units}
    item.update(extra)
    item["preprocessing"] = steps
    item["master_item"] = {"key": master}
    return item


VALUEMAPS = [
    ("ctflowd kernel switch", [("1", "on"), ("2", "off"), ("3", "unknown")]),
    ("ctflowd kernel events", [("1", "disabled"), ("2", "enabled"), ("3", "auto"), ("4", "unknown")]),
    ("ctflowd profile addresses", [("1", "original"), ("2", "translated")]),
]

MACROS = [
    ("{$CTFLOWD.INTERVAL}", "1m", "How often the items are polled."),
    ("{$CTFLOWD.LLD.INTERVAL}", "1h", "How often profiles and rows are discovered."),
    ("{$CTFLOWD.LLD.LIFETIME}", "7d", "How long the items of a row that has gone (evicted, or ctflowd's state removed) are kept."),
    ("{$CTFLOWD.LLD.MAX_ROWS}", "1000", "A row discovery refuses (and says so in the rule's error) when its profile has more rows than this; "
     "narrow it with the profile's MATCH and NOT_MATCH macros. Context: the profile's name."),
    ("{$CTFLOWD.NODATA}", "10m", "No answer from ctflowd for this long raises a problem."),
    ("{$CTFLOWD.LOSS.PERIOD}", "15m", "An events-lost problem stays open until no event was lost for this long."),
    ("{$CTFLOWD.TRACKED.WARN}", "90", "Tracked flows, percent of ctflowTrackedFlowsLimit, that raise a problem."),
    ("{$CTFLOWD.PROFILE.FILL.WARN}", "95", "Rows, percent of the profile's row limit, that raise a problem "
     "(context: the profile's name)."),
    ("{$CTFLOWD.RATE.PERIOD}", "5m", "A row's rate must stay above the HIGH macro for this long to raise a problem, "
     "and below the LOW macro for this long to resolve it."),
]

# The profiles of the shipped ctflowd.conf: name, number, its directions' words,
# whether its discovery is on by default, the HIGH and LOW bits/s.
PROFILES = [
    ("host", 1, ("sent", "received"), True, "1000000000", "800000000"),
    ("service", 2, ("to the service", "from the service"), True, "1000000000", "800000000"),
    ("pair", 3, ("source to destination", "destination to source"), False, "1000000000", "800000000"),
]


def collector_items():
    accounting = snmp_item(
        "ctflowd.kernel.accounting", "ctflowd: kernel accounting", COLLECTOR + ".17.0", "collector",
        delay="{$CTFLOWD.LLD.INTERVAL}", valuemap={"name": "ctflowd kernel switch"},
        description="nf_conntrack_acct in ctflowd's namespace. Off: the kernel counts no bytes or packets, every row stays at zero.",
        triggers=[{"uuid": uid("trigger", "accounting"),
                   "expression": "last(%s)=2" % ref("ctflowd.kernel.accounting"),
                   "name": "ctflowd: kernel accounting is off (no bytes or packets are counted)",
                   "priority": "HIGH",
                   "description": "Set net.netfilter.nf_conntrack_acct=1 (ctflowd-kmod setup does it at boot)."}])
    lost = snmp_item(
        "ctflowd.events.lost", "ctflowd: events lost", COLLECTOR + ".5.0", "collector",
        description="Connection-tracking events the kernel dropped because ctflowd's receive buffer was full (ctflowEventsLost).")
    lost_rate = rate_item(
        "ctflowd.events.lost.rate", "ctflowd: events lost per second", "ctflowd.events.lost", "events/s",
        tags=tags("collector"),
        triggers=[{"uuid": uid("trigger", "lost"),
                   "expression": "max(%s,{$CTFLOWD.LOSS.PERIOD})>0" % ref("ctflowd.events.lost.rate"),
                   "name": "ctflowd: conntrack events lost (the tables miss some flows)",
                   "priority": "AVERAGE",
                   "description": "Raise rcvbuf_max in ctflowd.conf (and net.core.rmem_max); ctflowResyncs counts the repairs."}])
    received = snmp_item(
        "ctflowd.events.received", "ctflowd: events received", COLLECTOR + ".4.0", "collector",
        description="DESTROY events received from the kernel (ctflowEventsReceived).",
        triggers=[{"uuid": uid("trigger", "nodata"),
                   "expression": "nodata(%s,{$CTFLOWD.NODATA})=1" % ref("ctflowd.events.received"),
                   "name": "ctflowd: no answer over SNMP for {$CTFLOWD.NODATA}",
                   "priority": "WARNING"}])
    tracked = snmp_item(
        "ctflowd.tracked.flows", "ctflowd: tracked flows", COLLECTOR + ".13.0", "collector",
        description="Live connections ctflowd follows (ctflowTrackedFlows).")
    limit = snmp_item(
        "ctflowd.tracked.limit", "ctflowd: tracked flows limit", COLLECTOR + ".14.0", "collector",
        delay="{$CTFLOWD.LLD.INTERVAL}",
        triggers=[{"uuid": uid("trigger", "tracked"),
                   "expression": "last(%s)>=last(%s)*{$CTFLOWD.TRACKED.WARN}/100" % (
                       ref("ctflowd.tracked.flows"), ref("ctflowd.tracked.limit")),
                   "name": "ctflowd: tracked flows above {$CTFLOWD.TRACKED.WARN}% of the limit",
                   "priority": "WARNING",
                   "description": "At the limit new connections are counted only when they end (ctflowTrackingRefused); raise track_max."}])
    starts = snmp_item(
        "ctflowd.starts", "ctflowd: starts", COLLECTOR + ".36.0", "collector",
        triggers=[{"uuid": uid("trigger", "restarted"),
                   "expression": "change(%s)>0" % ref("ctflowd.starts"),
                   "name": "ctflowd has restarted", "priority": "INFO", "manual_close": "YES"}])
    return [
        snmp_item("ctflowd.version", "ctflowd: version", COLLECTOR + ".1.0", "collector",
                  delay="{$CTFLOWD.LLD.INTERVAL}", trends="0", value_type="CHAR"),
        accounting,
        snmp_item("ctflowd.kernel.timestamps", "ctflowd: kernel timestamps", COLLECTOR + ".18.0", "collector",
                  delay="{$CTFLOWD.LLD.INTERVAL}", valuemap={"name": "ctflowd kernel switch"}),
        snmp_item("ctflowd.kernel.events", "ctflowd: kernel events", COLLECTOR + ".19.0", "collector",
                  delay="{$CTFLOWD.LLD.INTERVAL}", valuemap={"name": "ctflowd kernel events"}),
        received,
        rate_item("ctflowd.events.received.rate", "ctflowd: events received per second",
                  "ctflowd.events.received", "events/s", tags=tags("collector")),
        lost, lost_rate,
        snmp_item("ctflowd.flows.unobserved", "ctflowd: flows ended unobserved", COLLECTOR + ".9.0", "collector",
                  description="Flows that ended without ctflowd seeing their last counters (ctflowFlowsEndedUnobserved)."),
        tracked, limit, starts,
        snmp_item("ctflowd.notifications.dropped", "ctflowd: notifications dropped", COLLECTOR + ".28.0", "collector"),
    ]


def profile_discovery():
    key = "ctflowd.profile.discovery"
    pre = "ctflowd.profile.%s[{#SNMPINDEX}]"
    items = [
        snmp_item(pre % "rows", "Profile {#PROFILE}: rows", PROFILE + ".5.{#SNMPINDEX}", "profile"),
        snmp_item(pre % "limit", "Profile {#PROFILE}: row limit", PROFILE + ".6.{#SNMPINDEX}", "profile",
                  delay="{$CTFLOWD.LLD.INTERVAL}"),
        snmp_item(pre % "evictions", "Profile {#PROFILE}: evictions", PROFILE + ".8.{#SNMPINDEX}", "profile",
                  description="Rows evicted (least recently updated first) because the profile was full."),
        rate_item(pre % "evictions.rate", "Profile {#PROFILE}: evictions per second", pre % "evictions",
                  "rows/s", tags=tags("profile")),
        snmp_item(pre % "memory", "Profile {#PROFILE}: memory", PROFILE + ".9.{#SNMPINDEX}", "profile",
                  units="B"),
    ]
    triggers = [
        {"uuid": uid("trigger", "profile", "evicting"),
         "expression": "last(%s)>0" % ref(pre % "evictions.rate"),
         "name": "ctflowd: profile {#PROFILE} is full and evicting rows", "priority": "WARNING",
         "description": "Raise the profile's rows = in ctflowd.conf, or narrow its key."},
        {"uuid": uid("trigger", "profile", "fill"),
         "expression": "last(%s)>=last(%s)*{$CTFLOWD.PROFILE.FILL.WARN:\"{#PROFILE}\"}/100" % (
             ref(pre % "rows"), ref(pre % "limit")),
         "name": "ctflowd: profile {#PROFILE} above {$CTFLOWD.PROFILE.FILL.WARN:\"{#PROFILE}\"}% of its row limit",
         "priority": "INFO"},
    ]
    for i in items:
        i["uuid"] = uid("prototype", i["key"])
    return {"uuid": uid("rule", key), "name": "ctflowd profiles", "type": "SNMP_AGENT",
            "snmp_oid": "discovery[{#PROFILE},%s.2]" % PROFILE, "key": key,
            "delay": "{$CTFLOWD.LLD.INTERVAL}", "lifetime": "{$CTFLOWD.LLD.LIFETIME}",
            "description": "Every profile of ctflowProfileTable, by name.",
            "item_prototypes": items, "trigger_prototypes": triggers}


# Refuses a discovery that would create items for too many rows (the walk is
# one slice; the items would be polled for ever).  The profile's name is the
# macro's context, so one profile can be given its own bound.  The macro
# names in the message are split so that Zabbix does not resolve them.
GUARD = """var rows = JSON.parse(value);
var max = parseInt('{$CTFLOWD.LLD.MAX_ROWS:"%s"}', 10);
if (rows.length > max)
    throw 'ctflowd: ' + rows.length + ' rows in the %s profile, more than ' + max +
        ' ({' + '$CTFLOWD.LLD.MAX_ROWS}); narrow the discovery with {' + '$CTFLOWD.%s.MATCH} and {' + '$CTFLOWD.%s.NOT_MATCH}';
return value;"""


def row_discovery(profile, number, dirs, enabled, high, low):
    up = profile.upper()
    key = "ctflowd.%s.discovery" % profile
    pre = "ctflowd.%s.%%s[{#SNMPINDEX}]" % profile
    slice_ = "%s.%%d.{$CTFLOWD.PROFILE.%s}" % (AGG, up)   # a column's slice of this profile
    label = "{#KEY}"   # "host 10.1.2.3", "proto 6 port 443", "src 10.1.2.3 dst 192.0.2.7"
    items = []
    rates = []
    # (counter key, ctflowAggEntry column, unit, name; its rate's key, unit, multiplier, name)
    for name, n, unit, what, rkey, runit, mult, rwhat in (
            ("fwd.octets", 15, "B", "octets " + dirs[0], "fwd.bps", "bps", "8", "traffic " + dirs[0]),
            ("rev.octets", 17, "B", "octets " + dirs[1], "rev.bps", "bps", "8", "traffic " + dirs[1]),
            ("fwd.packets", 14, "", "packets " + dirs[0], "fwd.pps", "pps", None, "packets per second " + dirs[0]),
            ("rev.packets", 16, "", "packets " + dirs[1], "rev.pps", "pps", None, "packets per second " + dirs[1]),
            ("flows", 12, "", "flows started", "flows.rate", "flows/s", None, "flows started per second")):
        extra = {"units": unit} if unit else {}
        items.append(snmp_item(pre % name, "%s: %s" % (label, what), (slice_ % n) + ".{#SNMPINDEX}", profile,
                               trends="0", history="{$CTFLOWD.ROW.HISTORY}", **extra))
        rates.append(rate_item(pre % rkey, "%s: %s" % (label, rwhat), pre % name, runit, mult, tags=tags(profile)))
    for i in items + rates:
        i["uuid"] = uid("prototype", i["key"])
    triggers = []
    for d, word_dir in (("fwd", dirs[0]), ("rev", dirs[1])):
        item = ref(pre % ("%s.bps" % d))
        hi = "{$CTFLOWD.%s.BPS.HIGH:\"{#KEY}\"}" % up
        lo = "{$CTFLOWD.%s.BPS.LOW:\"{#KEY}\"}" % up
        triggers.append({
            "uuid": uid("trigger", profile, d),
            "expression": "min(%s,{$CTFLOWD.RATE.PERIOD})>%s" % (item, hi),
            "recovery_mode": "RECOVERY_EXPRESSION",
            "recovery_expression": "max(%s,{$CTFLOWD.RATE.PERIOD})<%s" % (item, lo),
            "name": "ctflowd: %s: traffic %s above %s" % (label, word_dir, hi),
            "priority": "WARNING",
            "description": "Rising above the HIGH macro, resolved below the LOW macro (hysteresis, as ctflowd's own thresholds). "
                           "Set either per row with the row's key as the macro's context."})
    rule = {"uuid": uid("rule", key), "name": "ctflowd %s rows" % profile, "type": "SNMP_AGENT",
            "snmp_oid": "discovery[{#KEY},%s]" % (slice_ % 22), "key": key,
            "delay": "{$CTFLOWD.LLD.INTERVAL}", "lifetime": "{$CTFLOWD.LLD.LIFETIME}"}
    if not enabled:
        rule["status"] = "DISABLED"
    rule.update({
        "description": "The rows of ctflowd's %s profile (profile number {$CTFLOWD.PROFILE.%s}), by ctflowAggKey. "
                       "Only rows whose key matches {$CTFLOWD.%s.MATCH} and not {$CTFLOWD.%s.NOT_MATCH}; "
                       "none at all while the profile holds more than {$CTFLOWD.LLD.MAX_ROWS} rows.%s"
                       % (profile, up, up, up,
                          "" if enabled else " Disabled: a pair profile can hold hundreds of thousands of rows; "
                          "enable it with narrow filters."),
        "filter": {"evaltype": "AND", "conditions": [
            {"macro": "{#KEY}", "value": "{$CTFLOWD.%s.MATCH}" % up, "formulaid": "A"},
            {"macro": "{#KEY}", "value": "{$CTFLOWD.%s.NOT_MATCH}" % up,
             "operator": "NOT_MATCHES_REGEX", "formulaid": "B"}]},
        "item_prototypes": items + rates,
        "trigger_prototypes": triggers,
        "preprocessing": [{"type": "JAVASCRIPT", "parameters": [GUARD % (profile, profile, up, up)]}],
    })
    macros = [
        ("{$CTFLOWD.PROFILE.%s}" % up, str(number), "The %s profile's place in ctflowd.conf (ctflowProfileIndex)." % profile),
        ("{$CTFLOWD.%s.MATCH}" % up, ".*", "Discover only the %s rows whose ctflowAggKey matches this regular expression." % profile),
        ("{$CTFLOWD.%s.NOT_MATCH}" % up, "^$", "Do not discover the %s rows whose ctflowAggKey matches this." % profile),
        ("{$CTFLOWD.%s.BPS.HIGH}" % up, high, "A %s row's traffic (bits/s, either way) that raises a problem; context: the row's key." % profile),
        ("{$CTFLOWD.%s.BPS.LOW}" % up, low, "The traffic below which that problem resolves."),
    ]
    return rule, macros


def usage_discovery():
    """The host profile's usage in its current period of one kind."""
    key = "ctflowd.host.usage.discovery"
    pre = "ctflowd.host.usage.%s[{#SNMPINDEX}]"
    slice_ = "%s.%%d.{$CTFLOWD.PROFILE.HOST}" % USAGE
    items = []
    for name, col, what in (("octets", 11, "used this {#PERIOD}"),
                            ("fwd.octets", 7, "sent this {#PERIOD}"),
                            ("rev.octets", 9, "received this {#PERIOD}")):
        i = snmp_item(pre % name, "{#KEY}: %s" % what, (slice_ % col) + ".{#SNMPINDEX}", "host",
                      units="B", history="{$CTFLOWD.ROW.HISTORY}",
                      description="ctflowUsageTable: the row's total in its current period; it starts from 0 "
                                  "with each period.")
        i["uuid"] = uid("prototype", i["key"])
        items.append(i)
    item = ref(pre % "octets")
    cap = "{$CTFLOWD.USAGE.CAP:\"{#KEY}\"}"
    triggers = [
        {"uuid": uid("trigger", "usage", "warn"),
         "expression": "last(%s)>=%s*{$CTFLOWD.USAGE.WARN}/100" % (item, cap),
         "name": "ctflowd: {#KEY}: used {$CTFLOWD.USAGE.WARN}%% of its allowance this {#PERIOD}",
         "priority": "WARNING",
         "dependencies": [{"name": "ctflowd: {#KEY}: used all of its allowance this {#PERIOD}",
                           "expression": "last(%s)>=%s" % (item, cap)}],
         "description": "The row's total in its current period reached {$CTFLOWD.USAGE.WARN}% of "
                        "{$CTFLOWD.USAGE.CAP} (set per row with the row's key as context). "
                        "It resolves when the next period begins."},
        {"uuid": uid("trigger", "usage", "cap"),
         "expression": "last(%s)>=%s" % (item, cap),
         "name": "ctflowd: {#KEY}: used all of its allowance this {#PERIOD}",
         "priority": "HIGH",
         "description": "The row's total in its current period reached {$CTFLOWD.USAGE.CAP}."},
    ]
    rule = {"uuid": uid("rule", key), "name": "ctflowd host usage", "type": "SNMP_AGENT",
            "snmp_oid": "discovery[{#KEY},%s,{#PERIOD},%s]" % (slice_ % 12, slice_ % 3), "key": key,
            "delay": "{$CTFLOWD.LLD.INTERVAL}", "lifetime": "{$CTFLOWD.LLD.LIFETIME}",
            "description": "The usage of the host profile's rows in their current period of the kind "
                           "{$CTFLOWD.USAGE.PERIOD} (its place in the profile's periods: 2 for "
                           "periods = day, month); nothing while the profile keeps no periods. "
                           "Rows filtered like the host rows; none while the profile holds more than "
                           "{$CTFLOWD.LLD.MAX_ROWS} entries.",
            "filter": {"evaltype": "AND", "conditions": [
                {"macro": "{#SNMPINDEX}", "value": "\\.{$CTFLOWD.USAGE.PERIOD}\\.0$", "formulaid": "A"},
                {"macro": "{#KEY}", "value": "{$CTFLOWD.HOST.MATCH}", "formulaid": "B"},
                {"macro": "{#KEY}", "value": "{$CTFLOWD.HOST.NOT_MATCH}",
                 "operator": "NOT_MATCHES_REGEX", "formulaid": "C"}]},
            "item_prototypes": items,
            "trigger_prototypes": triggers,
            "preprocessing": [{"type": "JAVASCRIPT", "parameters": [GUARD % ("host", "host", "HOST", "HOST")]}]}
    macros = [
        ("{$CTFLOWD.USAGE.PERIOD}", "2", "The host profile's period kind the usage items show: its place in the "
         "profile's periods (ctflowUsagePeriod), 2 for periods = day, month."),
        ("{$CTFLOWD.USAGE.CAP}", "200G", "A host's allowance per period, bytes both ways; context: the row's key."),
        ("{$CTFLOWD.USAGE.WARN}", "80", "Percent of the allowance that raises a warning."),
    ]
    return rule, macros


def template():
    rules = [profile_discovery()]
    macros = list(MACROS) + [("{$CTFLOWD.ROW.HISTORY}", "7d", "How long a row's raw counters are kept.")]
    for p in PROFILES:
        rule, m = row_discovery(*p)
        rules.append(rule)
        macros += m
    rule, m = usage_discovery()
    rules.append(rule)
    macros += m
    return {
        "uuid": uid("template"), "template": TEMPLATE, "name": TEMPLATE,
        "description": "ctflowd, the conntrack flow-accounting agent, through CTFLOW-MIB: collector health, "
                       "profiles, and the rows of the shipped host, service and pair profiles. "
                       "Generated by conf/zabbix/gen_template.py; see conf/zabbix/README.md.",
        "groups": [{"name": GROUP}],
        "items": collector_items(),
        "discovery_rules": rules,
        "tags": [{"tag": "class", "value": "network"}, {"tag": "target", "value": "ctflowd"}],
        "macros": [{"macro": m, "value": v, "description": d} for m, v, d in sorted(macros)],
        "valuemaps": [{"uuid": uid("valuemap", name), "name": name,
                       "mappings": [{"value": v, "newvalue": n} for v, n in maps]}
                      for name, maps in VALUEMAPS],
    }


def scalar(v):
    if "\n" in v:
        return None
    return "'" + v.replace("'", "''") + "'"


def emit(node, indent, out):
    pad = "  " * indent
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                out.append("%s%s:" % (pad, k))
                emit(v, indent + 1, out)
            elif scalar(v) is None:
                out.append("%s%s: |-" % (pad, k))
                out.extend(pad + "  " + line for line in v.split("\n"))
            else:
                out.append("%s%s: %s" % (pad, k, scalar(v)))
    else:
        for v in node:
            if isinstance(v, dict):
                sub = []
                emit(v, indent + 1, sub)
                out.append(pad + "- " + sub[0].lstrip())
                out.extend(sub[1:])
            elif isinstance(v, list):
                raise ValueError("a list in a list")
            elif scalar(v) is None:
                out.append("%s- |-" % pad)
                out.extend(pad + "  " + line for line in v.split("\n"))
            else:
                out.append("%s- %s" % (pad, scalar(v)))


def main():
    doc = {"zabbix_export": {"version": "6.0",
                             "groups": [{"uuid": uid("group", GROUP), "name": GROUP}],
                             "templates": [template()]}}
    out = []
    emit(doc, 0, out)
    text = "\n".join(out) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
