#!/usr/bin/python3
"""check_mail.py - check RFC 8460 report mail independently of tlsflow.

usage: check_mail.py DNS_IP DNS_PORT OUTDIR MAILFILE...

For each received message (a Maildir file):
  * the DKIM signature is verified by python3-dkim (Debian), the key
    fetched from the test DNS server with dnspython; tlsrpt='strict'
    also requires the key record to declare s=tlsrpt (RFC 8460 5.3);
  * the signature is relaxed/relaxed, has no l=, and signs From, To,
    Subject, Date, Message-ID, TLS-Report-Domain, TLS-Report-Submitter,
    MIME-Version and Content-Type;
  * RFC 8460 section 5.3: multipart/report; report-type=tlsrpt, a
    text/plain first part, an application/tlsrpt+gzip second part with a
    file name; TLS-Report-Domain, TLS-Report-Submitter (= the domain of
    contact-info), the Subject "Report Domain: D Submitter: S Report-ID:
    <id>" agreeing with the report; TLS-Required: No, Message-ID, Date,
    From present;
  * the attachment is written to OUTDIR/N/<file name> for check_report.py.
Prints one line per message: "RCPT DOMAIN ALG REPORT-ID PATH", then the
text part's lines prefixed with "text RCPT DOMAIN: ".  Exits 1 on the
first bad message.
"""
import email
import email.policy
import gzip
import json
import os
import re
import sys

import dkim
import dns.resolver

SIGNED = {"from", "to", "subject", "date", "message-id", "tls-report-domain",
          "tls-report-submitter", "mime-version", "content-type"}


def main():
    ip, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [ip]
    res.port = port
    res.lifetime = 3

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            ans = res.resolve(name.rstrip("."), "TXT")
        except Exception:
            return None
        return b"".join(b"".join(r.strings) for r in ans)

    for n, path in enumerate(sys.argv[4:]):
        raw = open(path, "rb").read()
        try:
            out = check(raw, dnsfunc, os.path.join(outdir, str(n)))
        except Exception as e:
            print("BAD %s: %s" % (path, e))
            return 1
        print(out)
    return 0


def check(raw, dnsfunc, outdir):
    # Maildir files have LF line ends; DKIM is computed over CRLF.
    wire = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    # tlsrpt="strict": the key record must declare s=tlsrpt as well.
    d = dkim.DKIM(wire, tlsrpt="strict")
    if not d.verify(dnsfunc=dnsfunc):
        raise ValueError("DKIM signature does not verify")
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    sigs = msg.get_all("DKIM-Signature")
    if len(sigs) != 1:
        raise ValueError("%d DKIM-Signature fields" % len(sigs))
    tags = dict(t.strip().split("=", 1) for t in
                re.sub(r"\s+", "", sigs[0]).split(";") if t.strip())
    if tags.get("c") != "relaxed/relaxed" or "l" in tags:
        raise ValueError("DKIM c=%s l=%s" % (tags.get("c"), tags.get("l")))
    if set(tags["h"].lower().split(":")) != SIGNED:
        raise ValueError("DKIM h=%s" % tags["h"])
    for h in ("From", "Date", "Message-ID", "TLS-Required"):
        if not msg.get(h):
            raise ValueError("no %s" % h)
    if msg["TLS-Required"].strip() != "No":
        raise ValueError("TLS-Required: %s" % msg["TLS-Required"])
    if msg.get_content_type() != "multipart/report" or \
            msg.get_param("report-type") != "tlsrpt":
        raise ValueError("Content-Type %s" % msg["Content-Type"])
    parts = msg.get_payload()
    if len(parts) != 2 or parts[0].get_content_type() != "text/plain" or \
            parts[1].get_content_type() != "application/tlsrpt+gzip":
        raise ValueError("parts %s" % [p.get_content_type() for p in parts])
    fname = parts[1].get_filename()
    if not fname or "/" in fname:
        raise ValueError("attachment file name %r" % fname)
    body = parts[1].get_payload(decode=True)
    doc = json.loads(gzip.decompress(body))
    submitter = doc["contact-info"].split("@")[1]
    domain = msg["TLS-Report-Domain"].strip()
    if msg["TLS-Report-Submitter"].strip() != submitter:
        raise ValueError("TLS-Report-Submitter %s, contact-info %s" %
                         (msg["TLS-Report-Submitter"], doc["contact-info"]))
    if domain not in [p["policy"]["policy-domain"] for p in doc["policies"]]:
        raise ValueError("TLS-Report-Domain %s not in the report" % domain)
    subj = re.sub(r"\s+", " ", msg["Subject"].replace("\r\n", "").replace("\n", ""))
    m = re.fullmatch(r"Report Domain: (\S+) Submitter: (\S+) "
                     r"Report-ID: <([^<>]+)>", subj.strip())
    if not m or m.group(1) != domain or m.group(2) != submitter or \
            m.group(3) != doc["report-id"]:
        raise ValueError("Subject %r" % subj)
    if tags["d"] != submitter:
        raise ValueError("DKIM d=%s" % tags["d"])
    os.makedirs(outdir)
    fpath = os.path.join(outdir, fname)
    with open(fpath, "wb") as f:
        f.write(body)
    rcpt = (msg.get("Delivered-To") or msg["To"]).strip()
    text = parts[0].get_payload(decode=True).decode()
    lines = ["%s %s %s %s %s" % (rcpt, domain, tags["a"], doc["report-id"],
                                 fpath)]
    lines += ["text %s %s: %s" % (rcpt, domain, l) for l in text.splitlines()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
