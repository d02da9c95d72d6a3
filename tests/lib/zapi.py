#!/usr/bin/env python3
"""One call of the Zabbix API; prints the result as JSON.

    zapi.py URL METHOD PARAMS-JSON [AUTH-TOKEN]
    zapi.py URL configuration.import @FILE [AUTH-TOKEN]   (imports a YAML file)

An API error goes to stderr with exit status 1.
"""
import json
import sys
import urllib.request

IMPORT_RULES = {
    "groups": {"createMissing": True},
    "templates": {"createMissing": True, "updateExisting": True},
    "items": {"createMissing": True, "updateExisting": True, "deleteMissing": True},
    "discoveryRules": {"createMissing": True, "updateExisting": True, "deleteMissing": True},
    "triggers": {"createMissing": True, "updateExisting": True, "deleteMissing": True},
    "valueMaps": {"createMissing": True, "updateExisting": True, "deleteMissing": True},
    "templateLinkage": {"createMissing": True},
}


def main():
    url, method, params = sys.argv[1], sys.argv[2], sys.argv[3]
    if method == "configuration.import" and params.startswith("@"):
        with open(params[1:]) as f:
            params = {"format": "yaml", "source": f.read(), "rules": IMPORT_RULES}
    else:
        params = json.loads(params)
    req = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
    if len(sys.argv) > 4:
        req["auth"] = sys.argv[4]
    http = urllib.request.Request(url, json.dumps(req).encode(), {"Content-Type": "application/json-rpc"})
    with urllib.request.urlopen(http, timeout=60) as r:
        resp = json.load(r)
    if "error" in resp:
        sys.exit("zabbix api %s: %s" % (method, resp["error"]))
    print(json.dumps(resp["result"]))


if __name__ == "__main__":
    main()
