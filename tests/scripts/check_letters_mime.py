#!/usr/bin/env python3
"""Parses klartext letters with Python's email package (strict policy.default) and checks them.

Usage: check_letters_mime.py [--masked] FILE...
--masked: Date and Message-ID are masked (golden files); their syntax is not checked.
Exit 0 when every mail passes; prints one line per problem otherwise.
"""
import email
import email.policy
import sys


def check(path, masked):
    problems = []
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    def bad(text):
        problems.append(f"{path}: {text}")

    for part in msg.walk():
        for d in part.defects:
            bad(f"defect in {part.get_content_type()}: {d!r}")
    if msg.get_content_type() != "multipart/mixed":
        bad(f"top-level type is {msg.get_content_type()}, want multipart/mixed")
        return problems
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        if msg[name] is None:
            bad(f"missing {name}")
    subject = str(msg["Subject"] or "")
    if "=?" in subject or "\n" in subject:
        bad(f"subject not decoded to one line: {subject!r}")
    if not all(ord(c) < 128 for c in raw.split(b"\n\n", 1)[0].decode("ascii", "replace")):
        bad("non-ASCII bytes in the header (RFC 2047 missing)")
    if not masked:
        if msg["Date"].datetime is None:
            bad(f"bad Date: {msg['Date']}")
        mid = str(msg["Message-ID"])
        if not (mid.startswith("<") and mid.endswith(">") and "@" in mid):
            bad(f"bad Message-ID: {mid}")
    for addr in msg["To"].addresses:
        if "@" not in addr.addr_spec:
            bad(f"bad To address {addr}")
    cases = msg.get_all("X-Klartext-Case") or []
    if not cases:
        bad("no X-Klartext-Case header")
    parts = list(msg.iter_parts())
    body = parts[0]
    if body.get_content_type() != "text/plain":
        bad(f"first part is {body.get_content_type()}")
    if body.get_content_charset() != "utf-8":
        bad(f"body charset {body.get_content_charset()}")
    if body["Content-Transfer-Encoding"] != "quoted-printable":
        bad(f"body encoding {body['Content-Transfer-Encoding']}")
    text = body.get_content()
    for case in cases:
        if str(case) not in text:
            bad(f"case {case} not named in the body")
    attachments = list(msg.iter_attachments())
    if not attachments:
        bad("no attachment (evidence)")
    for a in attachments:
        name = a.get_filename()
        if not name:
            bad(f"attachment {a.get_content_type()} without file name")
            continue
        if name not in text:
            bad(f"attachment {name} not mentioned in the body")
        ctype = a.get_content_type()
        if ctype == "text/csv":
            data = a.get_payload(decode=True)
            first = data.split(b"\n", 1)[0]
            if b"," not in first or data.count(b"\n") < 2:
                bad(f"{name}: CSV without header and row")
        elif ctype == "message/rfc822":
            inner = a.get_content()
            if not isinstance(inner, email.message.EmailMessage):
                bad(f"{name}: message/rfc822 does not contain a message")
        elif ctype in ("text/plain", "application/octet-stream"):
            pass
        else:
            bad(f"{name}: unexpected attachment type {ctype}")
    return problems


def main(argv):
    masked = False
    files = []
    for a in argv[1:]:
        if a == "--masked":
            masked = True
        else:
            files.append(a)
    if not files:
        print("check_letters_mime: no mails given", file=sys.stderr)
        return 2
    problems = []
    for f in files:
        problems += check(f, masked)
    for p in problems:
        print(p)
    print(f"check_letters_mime: {len(files)} mail(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
