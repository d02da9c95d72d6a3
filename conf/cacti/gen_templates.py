#!/usr/bin/env python3
"""Write ctflowd's Cacti templates: the data query files and one import file.

    conf/cacti/gen_templates.py [--hosts N] [--services N] [--pairs N] [OUTDIR]

Cacti reads a data query's rows from one walk of a table column.  ctflowd
keeps all profiles in one table (ctflowAggTable, indexed by profile number
first), so each query walks one profile's slice of it: the profile's place
in ctflowd.conf.  The defaults (host 1, service 2, pair 3) are the profiles
of the shipped ctflowd.conf; a site whose profiles sit elsewhere runs this
with its own numbers and imports the result.

The output is deterministic: every object's hash is derived from its name,
so importing a regenerated file updates the templates already in Cacti
instead of adding copies.  `make check` verifies that the committed files
are what this script writes.
"""
import argparse
import hashlib
import os
import sys
from xml.sax.saxutils import escape

ROOT = ".1.3.6.1.4.1.32473"          # CTFLOW-MIB
AGG = ROOT + ".1.3.1"                # ctflowAggEntry
USAGE = ROOT + ".1.7.1"              # ctflowUsageEntry
PROFILE = ROOT + ".1.2.1"            # ctflowProfileEntry
COLLECTOR = ROOT + ".1.1"            # collector scalars
VERSION = "0103"                     # Cacti's hash version code for 1.2.19 and later

# Objects every Cacti 1.2 database has, referenced by their fixed hashes.
SNMP_GET = "3eb92bb845b9660a7445cf9740726522"          # data input "Get SNMP Data"
SNMP_GET_FIELDS = [                                    # (field, per-data-source?)
    ("92f5906c8dc0f964b41f4253df582c38", False),       # SNMP IP Address
    ("32285d5bf16e56c478f5e83f32cda9ef", False),       # SNMP Community
    ("ad14ac90641aed388139f6ba86a2e48b", False),       # SNMP Username
    ("9c55a74bd571b4f00a96fd4b793278c6", False),       # SNMP Password
    ("012ccb1d3687d3edb29c002ea66e72da", False),       # SNMP Version
    ("fc64b99742ec417cc424dbf8c7692d36", False),       # SNMP Port
    ("20832ce12f099c8e54140793a091af90", False),       # SNMP Authentication Protocol
    ("c60c9aac1e1b3555ea0620b8bbfd82cb", False),       # SNMP Privacy Passphrase
    ("feda162701240101bc74148415ef415a", False),       # SNMP Privacy Protocol
]
SNMP_GET_OID = "4276a5ec6e3fe33995129041b1909762"      # its OID field
SNMP_INDEXED = "bf566c869ac6443b0c75d1c32b5a350e"      # data input "Get SNMP Data (Indexed)"
SNMP_INDEXED_FIELDS = [
    ("617cdc8a230615e59f06f361ef6e7728", False),       # SNMP IP Address
    ("acb449d1451e8a2a655c2c99d31142c7", False),       # SNMP Community
    ("f4facc5e2ca7ebee621f09bc6d9fc792", False),       # SNMP Username
    ("1cc1493a6781af2c478fa4de971531cf", False),       # SNMP Password
    ("b5c23f246559df38662c255f4aa21d6b", False),       # SNMP Version
    ("6027a919c7c7731fbe095b6f53ab127b", True),        # Index Type
    ("cbbe5c1ddfb264a6e5d509ce1c78c95f", True),        # Index Value
    ("e6deda7be0f391399c5130e7c4a48b28", True),        # Output Type ID
    ("c1f36ee60c3dc98945556d57f26e475b", False),       # SNMP Port
    ("2cf7129ad3ff819a7a7ac189bee48ce8", False),       # SNMP Authentication Protocol
    ("6b13ac0a0194e171d241d4b06f913158", False),       # SNMP Privacy Passphrase
    ("3a33d4fc65b8329ab2ac46a36da26b72", False),       # SNMP Privacy Protocol
]
GPRINT_NORMAL = "e9c43831e54eca8069317a2ce8c6f751"
CDEF_BITS = "73f95f8b77b5508157d64047342c421e"         # "Turn Bytes into Bits"
PROFILE_5MIN = "d62c52891f4f9688729a5bc9fad91b18"      # replaced by the importer's profile

CODES = {
    "graph_template": "00", "data_template": "01", "host_template": "02",
    "data_input_method": "03", "data_query": "04", "cdef": "05", "gprint_preset": "06",
    "data_input_field": "07", "data_template_item": "08", "graph_template_input": "09",
    "graph_template_item": "10", "data_query_graph": "11", "data_query_sv_graph": "12",
    "data_query_sv_data_source": "13", "data_source_profile": "20",
}
GAUGE, DERIVE = 1, 3
AREA, LINE2, GPRINT = 7, 5, 9
CF_AVERAGE, CF_MAX, CF_LAST = 1, 3, 4


def ref(kind, md5):
    return "hash_%s%s%s" % (CODES[kind], VERSION, md5)


def h(kind, name):
    """A stable hash for one of our objects, from its kind and name."""
    return ref(kind, hashlib.md5(("ctflowd:%s:%s" % (kind, name)).encode()).hexdigest())


class Xml:
    def __init__(self):
        self.lines = []
        self.depth = 0

    def open(self, tag):
        self.lines.append("\t" * self.depth + "<%s>" % tag)
        self.depth += 1

    def close(self, tag):
        self.depth -= 1
        self.lines.append("\t" * self.depth + "</%s>" % tag)

    def leaf(self, tag, value=""):
        self.lines.append("\t" * self.depth + "<%s>%s</%s>" % (tag, escape(str(value)), tag))

    def text(self):
        return "\n".join(self.lines) + "\n"


# ------------------------------------------------------------------ model

def series(ds, label, color, kind, cdef=None):
    return dict(ds=ds, label=label, color=color, kind=kind, cdef=cdef)


def agg_tables(numbers):
    """The three aggregate-row queries: (slug, query name, profile number, labels)."""
    out = []
    for slug, name, what, fwd, rev in (
            ("hosts", "Hosts", "host", "Sent", "Received"),
            ("services", "Services", "service", "To the service", "Replies"),
            ("pairs", "Host pairs", "pair", "Source to destination", "Destination to source")):
        p = numbers[slug]
        graphs = [
            dict(name="Traffic", title="traffic (bits/s)", label="bits per second", base=1000,
                 sources=[("fwd_octets", "ctflowAggFwdOctets", AGG + ".15.%d" % p, DERIVE),
                          ("rev_octets", "ctflowAggRevOctets", AGG + ".17.%d" % p, DERIVE)],
                 series=[series("fwd_octets", fwd, "00CF00", AREA, CDEF_BITS),
                         series("rev_octets", rev, "002A97", LINE2, CDEF_BITS)]),
            dict(name="Packets and new flows", title="packets and new flows per second",
                 label="per second", base=1000,
                 sources=[("fwd_packets", "ctflowAggFwdPackets", AGG + ".14.%d" % p, DERIVE),
                          ("rev_packets", "ctflowAggRevPackets", AGG + ".16.%d" % p, DERIVE),
                          ("flows", "ctflowAggFlowsStarted", AGG + ".12.%d" % p, DERIVE)],
                 series=[series("fwd_packets", fwd + " packets", "00CF00", AREA),
                         series("rev_packets", rev + " packets", "002A97", LINE2),
                         series("flows", "New flows", "FF7D00", LINE2)]),
        ]
        out.append(dict(
            slug=slug, name="ctflowd - " + name, what=what, profile=p,
            description="Rows of ctflowd's %s profile (CTFLOW-MIB ctflowAggTable, profile %d)"
                        % (what, p),
            oid_index=AGG + ".22.%d" % p,
            index_parse=r"OID/REGEXP:^.*\.32473\.1\.3\.1\.22\.%d\.(.*)$" % p,
            num_indexes=PROFILE + ".5.%d" % p,
            inputs=[("ctflowAggKey", "Key", AGG + ".22.%d" % p)],
            order="ctflowAggKey", order_type="alphabetic",
            label_field="ctflowAggKey", graphs=graphs))
    return out


def usage_table(p):
    """Usage per period of the host profile's rows (when it keeps periods):
    one query row per key, period kind and age; graph the current period's
    (age 0) of the kind you want, e.g. "host 10.1.2.3 month 0"."""
    graphs = [
        dict(name="Usage this period", title="this period (bytes)", label="bytes",
             base=1024,
             sources=[("fwd_used", "ctflowUsageFwdOctets", USAGE + ".7.%d" % p, GAUGE),
                      ("rev_used", "ctflowUsageRevOctets", USAGE + ".9.%d" % p, GAUGE)],
             series=[series("fwd_used", "Sent", "00CF00", AREA),
                     series("rev_used", "Received", "002A97", LINE2)]),
    ]
    return dict(slug="usage", name="ctflowd - Host usage", what="usage", profile=p,
                description="Usage per period of ctflowd's host profile rows (CTFLOW-MIB "
                            "ctflowUsageTable, profile %d): key, period, age (0 = current)" % p,
                oid_index=USAGE + ".12.%d" % p,
                index_parse=r"OID/REGEXP:^.*\.32473\.1\.7\.1\.12\.%d\.(.*)$" % p,
                num_indexes=None,
                inputs=[("ctflowUsageKey", "Key", USAGE + ".12.%d" % p),
                        ("ctflowUsagePeriodName", "Period", USAGE + ".3.%d" % p),
                        ("ctflowUsageAge", "Age (0: current)", USAGE + ".12.%d" % p,
                         r"OID/REGEXP:^.*\.([0-9]+)$")],
                order="ctflowUsageKey", order_type="alphabetic",
                label_field="ctflowUsageKey",
                title="|query_ctflowUsageKey| used this |query_ctflowUsagePeriodName|",
                graphs=graphs)


def profile_table():
    graphs = [
        dict(name="Fill", title="rows in use", label="rows", base=1000,
             sources=[("rows", "ctflowProfileRows", PROFILE + ".5", GAUGE),
                      ("row_limit", "ctflowProfileRowLimit", PROFILE + ".6", GAUGE)],
             series=[series("rows", "Rows", "00CF00", AREA),
                     series("row_limit", "Row limit", "FF0000", LINE2)]),
        dict(name="Evictions", title="evictions per second", label="rows per second",
             base=1000,
             sources=[("evictions", "ctflowProfileEvictions", PROFILE + ".8", DERIVE)],
             series=[series("evictions", "Evicted rows", "FF7D00", LINE2)]),
    ]
    return dict(slug="profiles", name="ctflowd - Profiles", what="profile", profile=None,
                description="ctflowd's profiles and their fill level (CTFLOW-MIB ctflowProfileTable)",
                oid_index=PROFILE + ".2", index_parse=None, num_indexes=None,
                inputs=[("ctflowProfileName", "Name", PROFILE + ".2"),
                        ("ctflowProfileKey", "Key", PROFILE + ".3")],
                order="ctflowProfileName", order_type="alphabetic",
                label_field="ctflowProfileName", graphs=graphs)


HEALTH = [
    dict(name="Collector events", title="collector events per second", label="per second",
         base=1000, scalar=True,
         sources=[("events", "ctflowEventsReceived", COLLECTOR + ".4.0", DERIVE),
                  ("events_lost", "ctflowEventsLost", COLLECTOR + ".5.0", DERIVE),
                  ("unobserved", "ctflowFlowsEndedUnobserved", COLLECTOR + ".9.0", DERIVE)],
         series=[series("events", "Events received", "00CF00", AREA),
                 series("events_lost", "Events lost", "FF0000", LINE2),
                 series("unobserved", "Flows ended unobserved", "FF7D00", LINE2)]),
    dict(name="Tracked flows", title="tracked flows", label="flows", base=1000, scalar=True,
         sources=[("tracked", "ctflowTrackedFlows", COLLECTOR + ".13.0", GAUGE),
                  ("tracked_limit", "ctflowTrackedFlowsLimit", COLLECTOR + ".14.0", GAUGE)],
         series=[series("tracked", "Tracked flows", "00CF00", AREA),
                 series("tracked_limit", "Limit", "FF0000", LINE2)]),
]


# ------------------------------------------------------------------ data query files

def query_file(q):
    x = Xml()
    x.open("query")
    x.leaf("name", q["name"])
    x.leaf("description", q["description"])
    x.leaf("oid_index", q["oid_index"])
    if q["index_parse"]:
        x.leaf("oid_index_parse", q["index_parse"])
    if q["num_indexes"]:
        x.leaf("oid_num_indexes", q["num_indexes"])
    x.leaf("index_order", q["order"])
    x.leaf("index_order_type", q["order_type"])
    x.leaf("index_title_format", "|chosen_order_field|")
    x.open("fields")
    for field, name, oid, *source in q["inputs"]:
        x.open(field)
        x.leaf("name", name)
        x.leaf("method", "walk")
        x.leaf("source", source[0] if source else "value")
        x.leaf("direction", "input")
        x.leaf("oid", oid)
        x.close(field)
    seen = set()
    for g in q["graphs"]:
        for _ds, field, oid, _type in g["sources"]:
            if field in seen:
                continue
            seen.add(field)
            x.open(field)
            x.leaf("name", field)
            x.leaf("method", "walk")
            x.leaf("source", "value")
            x.leaf("direction", "output")
            x.leaf("oid", oid)
            x.close(field)
    x.close("fields")
    x.close("query")
    return "<!-- Generated by conf/cacti/gen_templates.py: edit that, not this. -->\n" + x.text()


# ------------------------------------------------------------------ import file

GRAPH_FIELDS = [  # graph template fields Cacti 1.2 exports, with our values
    ("title", None), ("vertical_label", None), ("image_format_id", 1), ("height", 200),
    ("width", 700), ("base_value", None), ("slope_mode", "on"), ("auto_scale", "on"),
    ("auto_scale_opts", 2), ("auto_scale_log", ""), ("scale_log_units", ""),
    ("auto_scale_rigid", ""), ("upper_limit", 100), ("lower_limit", 0), ("unit_value", ""),
    ("unit_exponent_value", ""), ("unit_length", ""), ("no_gridfit", ""), ("alt_y_grid", ""),
    ("right_axis", ""), ("right_axis_label", ""), ("right_axis_format", 0),
    ("right_axis_formatter", ""), ("left_axis_formatter", ""), ("auto_padding", "on"),
    ("dynamic_labels", ""), ("force_rules_legend", ""), ("tab_width", ""),
    ("legend_position", ""), ("legend_direction", ""),
]


def names(owner, g):
    base = "%s/%s" % (owner, g["name"])
    return dict(gt=h("graph_template", base), dt=h("data_template", base), base=base)


def data_template(x, owner, g, indexed, title):
    """One data template for graph g.  "Get SNMP Data" reads one OID per data
    source, so a scalar graph has one data template per source (see
    scalar_templates); an indexed one has a data source per column."""
    n = names(owner, g)
    x.open(n["dt"])
    x.leaf("name", "%s - %s" % (owner, g["name"]))
    x.open("ds")
    x.leaf("t_name", "")
    x.leaf("name", "|host_description| - %s" % title)
    x.leaf("data_source_path", "")
    x.leaf("data_input_id", ref("data_input_method", SNMP_INDEXED if indexed else SNMP_GET))
    x.leaf("t_data_source_profile_id", "")
    x.leaf("data_source_profile_id", ref("data_source_profile", PROFILE_5MIN))
    x.leaf("t_rrd_step", "")
    x.leaf("rrd_step", 300)
    x.leaf("t_active", "")
    x.leaf("active", "on")
    x.close("ds")
    x.open("items")
    for ds, _field, _oid, dstype in g["sources"]:
        x.open(h("data_template_item", n["base"] + "/" + ds))
        for tag, value in (("data_source_name", ds), ("rrd_minimum", 0), ("rrd_maximum", "U"),
                           ("data_source_type_id", dstype), ("rrd_heartbeat", 600),
                           ("data_input_field_id", 0)):
            x.leaf("t_" + tag, "")
            x.leaf(tag, value)
        x.close(h("data_template_item", n["base"] + "/" + ds))
    x.close("items")
    x.open("data")
    fields = SNMP_INDEXED_FIELDS if indexed else SNMP_GET_FIELDS + [(SNMP_GET_OID, False)]
    for i, (field, per_ds) in enumerate(fields):
        x.open("item_%03d" % i)
        x.leaf("data_input_field_id", ref("data_input_field", field))
        x.leaf("t_value", "on" if per_ds else "")
        x.leaf("value", g["sources"][0][2] if field == SNMP_GET_OID else "")
        x.close("item_%03d" % i)
    x.close("data")
    x.close(n["dt"])


def scalar_templates(g):
    """Graph g split into one single-source graph per scalar, whose data
    templates graph g's items then point at."""
    return [dict(name=src[1], title=src[1], sources=[src]) for src in g["sources"]]


def task_item(owner, g, ds):
    """The data template item a graph item of g draws: in g's own data
    template, or for a scalar graph in its source's one-source template."""
    base = names(owner, g)["base"]
    if g.get("scalar"):
        base = "%s/%s" % (owner, next(src[1] for src in g["sources"] if src[0] == ds))
    return h("data_template_item", base + "/" + ds)


def graph_template(x, owner, g, title):
    n = names(owner, g)
    x.open(n["gt"])
    x.leaf("name", "%s - %s" % (owner, g["name"]))
    x.open("graph")
    values = dict(title="|host_description| - %s" % title, vertical_label=g["label"],
                  base_value=g["base"])
    for field, default in GRAPH_FIELDS:
        x.leaf("t_" + field, "")
        x.leaf(field, values.get(field, default))
    x.close("graph")
    x.open("items")
    inputs = {}
    seq = 0
    for s in g["series"]:
        task = task_item(owner, g, s["ds"])
        parts = [(s["kind"], CF_AVERAGE, s["label"], ""), (GPRINT, CF_LAST, "Current:", ""),
                 (GPRINT, CF_AVERAGE, "Average:", ""), (GPRINT, CF_MAX, "Maximum:", "on")]
        for kind, cf, text, hard_return in parts:
            seq += 1
            item = h("graph_template_item", "%s/%d" % (n["base"], seq))
            inputs.setdefault(s["ds"], []).append(item)
            x.open(item)
            for tag, value in (
                    ("graph_type_id", kind), ("task_item_id", task),
                    ("color_id", s["color"] if kind != GPRINT else 0),
                    ("alpha", "FF"), ("consolidation_function_id", cf),
                    ("cdef_id", ref("cdef", s["cdef"]) if s["cdef"] else 0), ("vdef_id", 0),
                    ("shift", ""), ("value", ""), ("gprint_id", ref("gprint_preset", GPRINT_NORMAL)),
                    ("textalign", ""), ("text_format", text), ("hard_return", hard_return),
                    ("line_width", "0.00"), ("dashes", ""), ("dash_offset", 0), ("sequence", seq)):
                x.leaf(tag, value)
            x.close(item)
    x.close("items")
    x.open("inputs")
    for s in g["series"]:
        inp = h("graph_template_input", n["base"] + "/" + s["ds"])
        x.open(inp)
        x.leaf("name", "%s Data Source" % s["label"])
        x.leaf("description", "")
        x.leaf("column_name", "task_item_id")
        x.leaf("items", "|".join(inputs[s["ds"]]))
        x.close(inp)
    x.close("inputs")
    x.close(n["gt"])


def data_query(x, q):
    qh = h("data_query", q["slug"])
    x.open(qh)
    x.leaf("name", q["name"])
    x.leaf("description", q["description"])
    x.leaf("xml_path", "<path_cacti>/resource/snmp_queries/ctflowd_%s.xml" % q["slug"])
    x.leaf("data_input_id", ref("data_input_method", SNMP_INDEXED))
    x.open("graphs")
    for g in q["graphs"]:
        n = names(q["name"], g)
        gh = h("data_query_graph", n["base"])
        x.open(gh)
        x.leaf("graph_template_id", n["gt"])
        x.leaf("name", g["name"])
        x.open("rrd")
        for i, (ds, field, _oid, _type) in enumerate(g["sources"]):
            x.open("item_%03d" % i)
            x.leaf("snmp_field_name", field)
            x.leaf("data_template_id", n["dt"])
            x.leaf("data_template_rrd_id", h("data_template_item", n["base"] + "/" + ds))
            x.close("item_%03d" % i)
        x.close("rrd")
        label = "|query_%s|" % q["label_field"]
        what = "%s %s" % (q["what"], label) if q["what"] == "profile" else label
        x.open("sv_graph")
        sv = h("data_query_sv_graph", n["base"] + "/title")
        x.open(sv)
        x.leaf("field_name", "title")
        x.leaf("sequence", 1)
        x.leaf("text", "|host_description| - %s" % q["title"] if "title" in q
               else "|host_description| - %s %s" % (what, g["title"]))
        x.close(sv)
        x.close("sv_graph")
        x.open("sv_data_source")
        sv = h("data_query_sv_data_source", n["base"] + "/name")
        x.open(sv)
        x.leaf("field_name", "name")
        x.leaf("data_template_id", n["dt"])
        x.leaf("sequence", 1)
        x.leaf("text", "|host_description| - %s %s" % (what, g["name"].lower()))
        x.close(sv)
        x.close("sv_data_source")
        x.close(gh)
    x.close("graphs")
    x.close(qh)
    return qh


def import_file(queries):
    x = Xml()
    x.lines.append("<!-- ctflowd templates for Cacti 1.2.19 and later.  Generated by"
                   " conf/cacti/gen_templates.py: edit that, not this. -->")
    x.open("cacti")
    health_graphs = []
    for g in HEALTH:
        for one in scalar_templates(g):
            data_template(x, "ctflowd", one, False, "ctflowd %s" % one["title"])
        graph_template(x, "ctflowd", g, "ctflowd %s" % g["title"])
        health_graphs.append(names("ctflowd", g)["gt"])
    query_hashes = []
    for q in queries:
        for g in q["graphs"]:
            data_template(x, q["name"], g, True, "%s %s" % (q["name"], g["title"]))
            graph_template(x, q["name"], g, "%s %s" % (q["name"], g["title"]))
        query_hashes.append(data_query(x, q))
    ht = h("host_template", "gateway")
    x.open(ht)
    x.leaf("name", "ctflowd Gateway")
    x.leaf("graph_templates", "|".join(health_graphs))
    x.leaf("data_queries", "|".join(query_hashes))
    x.close(ht)
    x.close("cacti")
    return x.text()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=1, help="place of the host profile (1)")
    ap.add_argument("--services", type=int, default=2, help="place of the service profile (2)")
    ap.add_argument("--pairs", type=int, default=3, help="place of the pair profile (3)")
    ap.add_argument("outdir", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    for v in (a.hosts, a.services, a.pairs):
        if not 1 <= v <= 4096:
            sys.exit("gen_templates: a profile's place is 1 to 4096, not %d" % v)
    queries = agg_tables(dict(hosts=a.hosts, services=a.services, pairs=a.pairs))
    queries.append(profile_table())
    queries.append(usage_table(a.hosts))
    files = {"ctflowd_%s.xml" % q["slug"]: query_file(q) for q in queries}
    files["cacti_ctflowd_templates.xml"] = import_file(queries)
    os.makedirs(a.outdir, exist_ok=True)
    for name, text in sorted(files.items()):
        with open(os.path.join(a.outdir, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
