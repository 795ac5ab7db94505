#!/usr/bin/python3
"""check_report.py - validate RFC 8460 reports strictly, print their counts.

usage: check_report.py SCHEMA (--lines FILE | --gz FILE...)
  --lines FILE   one JSON report per line (tlsflow report --dry-run)
  --gz FILE...   gzipped reports (--out files, POSTed bodies); a file name
                 in the RFC 8460 section 3 form is checked against the body

Besides the JSON Schema (Draft 2020-12, python3-jsonschema, formats
checked): I-JSON (no duplicate keys), one UTC day, summary counts equal
to the sum of failure-details for each policy.  Prints one line per
report: "DOMAIN OK FAILED NPOLICIES TYPES" (types sorted, comma
separated); exits 1 on the first invalid report.
"""
import gzip
import json
import os
import re
import sys

import jsonschema

def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)

def check(doc_text, schema, fname=None):
    doc = json.loads(doc_text, object_pairs_hook=no_dups)
    v = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    if errs:
        raise ValueError("schema: %s at %s" % (errs[0].message, list(errs[0].path)))
    s, e = doc["date-range"]["start-datetime"], doc["date-range"]["end-datetime"]
    if not (s.endswith("T00:00:00Z") and e == s[:10] + "T23:59:59Z"):
        raise ValueError("not one UTC day: %s .. %s" % (s, e))
    domains = set()
    ok = failed = 0
    for p in doc["policies"]:
        det = sum(d["failed-session-count"] for d in p.get("failure-details", []))
        if det != p["summary"]["total-failure-session-count"]:
            raise ValueError("details %d != failures %d" %
                             (det, p["summary"]["total-failure-session-count"]))
        ok += p["summary"]["total-successful-session-count"]
        failed += p["summary"]["total-failure-session-count"]
        domains.add(p["policy"]["policy-domain"])
    if fname is not None:
        m = re.fullmatch(r"([^!]+)!([^!]+)!([0-9]+)!([0-9]+)!([A-Za-z0-9]+)\.json\.gz",
                         os.path.basename(fname))
        if not m:
            raise ValueError("file name %s" % fname)
        sub = doc["contact-info"].split("@")[1]
        if m.group(1) != sub or m.group(2) not in domains:
            raise ValueError("file name %s vs body" % fname)
        if int(m.group(4)) - int(m.group(3)) != 86399:
            raise ValueError("file name times %s" % fname)
    # The report's domain: the non-MX policy domain (DANE policies are
    # per MX host), else the single one.
    types = ",".join(sorted(p["policy"]["policy-type"] for p in doc["policies"]))
    return doc, ok, failed, types

def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    items = []
    if sys.argv[2] == "--lines":
        for line in open(sys.argv[3]):
            if line.strip():
                items.append((line, None))
    else:
        for f in sys.argv[3:]:
            items.append((gzip.open(f).read().decode("utf-8"),
                          f if f.endswith(".json.gz") else None))
    ids = set()
    for text, fname in items:
        try:
            doc, ok, failed, types = check(text, schema, fname)
        except Exception as e:
            print("INVALID %s: %s" % (fname or "line", e))
            sys.exit(1)
        # report-ids are unique per report; only POSTed copies (files
        # not RFC-named) repeat them, one per destination.
        if (fname is not None or sys.argv[2] == "--lines") and doc["report-id"] in ids:
            print("INVALID duplicate report-id %s" % doc["report-id"])
            sys.exit(1)
        ids.add(doc["report-id"])
        dom = min((p["policy"]["policy-domain"] for p in doc["policies"]),
                  key=len)
        print("%s %d %d %d %s" % (dom, ok, failed, len(doc["policies"]), types))

main()
