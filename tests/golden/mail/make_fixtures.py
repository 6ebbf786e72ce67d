#!/usr/bin/env python3
"""Writes the project's own mail fixtures (documentation addresses, example.org) for the golden tests.

Run from anywhere: python3 tests/golden/mail/make_fixtures.py. Each case directory gets input.eml
(or input.json/input.xml) and a one-line description; expected output is made by the runner's
update mode (KLARTEXT_GOLDEN_UPDATE=1) and reviewed in git diff.
"""
import base64
import gzip
import io
import os
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(fmt, case, description, name, data):
    d = os.path.join(ROOT, fmt, case)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "description"), "w") as f:
        f.write(description + "\n")
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(d, name), mode) as f:
        f.write(data)


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def zipped(name, content):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo(name, date_time=(2026, 11, 27, 6, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, content)
    return buf.getvalue()


def gz(content):
    return gzip.compress(content.encode(), mtime=0)


XARF_FAIL2BAN = """\
Return-Path: <fail2ban@mail.example.org>
Received: from mail.example.org (mail.example.org [203.0.113.5])
\tby mx.example.net with ESMTPS; Fri, 27 Nov 2026 09:15:02 +0100
From: Fail2Ban <fail2ban@mail.example.org>
To: abuse@example.net
Subject: abuse report about 192.0.2.45 - Fri, 27 Nov 2026 09:14:51 +0100
Date: Fri, 27 Nov 2026 09:15:00 +0100
Message-ID: <xarf-fail2ban-1@mail.example.org>
MIME-Version: 1.0
X-XARF: PLAIN
Auto-Submitted: auto-generated
Content-Type: multipart/mixed; boundary="xarf-boundary"

--xarf-boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Dear abuse team,

this is an automated report about SSH login attempts from 192.0.2.45.

--xarf-boundary
Content-Type: text/plain; charset=utf-8; name="report.txt"
Content-Transfer-Encoding: 7bit

Reported-From: fail2ban@mail.example.org
Category: abuse
Report-Type: login-attack
Service: ssh
Version: 0.2
User-Agent: Fail2BanXarfMail 1.0
Date: Fri, 27 Nov 2026 09:14:51 +0100
Source-Type: ipv4
Source: 192.0.2.45
Port: 22
Report-ID: 1764231291@mail.example.org
Occurances: 6
TLP: green
Schema-URL: http://www.x-arf.org/schema/abuse_login-attack_0.1.2.json
Attachment: text/plain

--xarf-boundary
Content-Type: text/plain; charset=utf-8; name="logfile.log"
Content-Transfer-Encoding: 7bit

Nov 27 09:14:40 mail sshd[4711]: Invalid user admin from 192.0.2.45 port 50112
Nov 27 09:14:42 mail sshd[4711]: Failed password for invalid user admin from 192.0.2.45 port 50112 ssh2
Nov 27 09:14:45 mail sshd[4713]: Failed password for root from 192.0.2.45 port 50120 ssh2
Nov 27 09:14:48 mail sshd[4715]: Failed password for root from 192.0.2.45 port 50131 ssh2
Nov 27 09:14:51 mail sshd[4717]: Failed password for invalid user test from 192.0.2.45 port 50140 ssh2

--xarf-boundary--
"""

XARF_INLINE = """\
From: Hosting Support <support@example.org>
To: abuse@example.net
Subject: Fwd: abuse report about 198.51.100.77
Date: Thu, 26 Nov 2026 18:02:00 +0000
Message-ID: <fwd-xarf-2@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, please see the report below that we received.

----- Forwarded message -----
> Reported-From: reports@honeypot.example.org
> Category: abuse
> Report-Type: port-probe
> Date: 2026-11-26T17:40:12Z
> Source-Type: ipv4
> Source: 198.51.100.77
> Destination-Port: 445
> Report-ID: 42@honeypot.example.org
> Schema-URL: https://honeypot.example.org/private/schema/port-probe.json
"""

XARF_INFO_EVIDENCE = """\
From: Anti-Abuse <anti-abuse@example.org>
To: abuse@example.net
Subject: abuse report about 203.0.113.80 - mail
Date: Wed, 25 Nov 2026 20:13:45 +0100
Message-ID: <xarf-info-3@example.org>
MIME-Version: 1.0
X-XARF: yes
Content-Type: multipart/mixed; boundary="b3"

--b3
Content-Type: text/plain; charset=utf-8

One of your clients has abused our mail server.

--b3
Content-Type: text/plain; charset=utf-8; name="report.txt"

Reported-From: anti-abuse@example.org
Category: abuse
Report-Type: info
Service: mail
Version: 0.2
Date: Wed, 25 Nov 2026 20:13:45 +0100
Source-Type: ipv4
Source: 203.0.113.80
Ports: 25
Schema-URL: https://badwall.example.org/schema/abuse_info_0.1.1.json
Attachment: text/plain

--b3
Content-Type: text/plain; charset=utf-8; name="logfile.txt"

Nov 25 20:13:40 mx sm-mta[24785]: NOQUEUE: connect from host.example.net [203.0.113.80]
Nov 25 20:13:43 mx sm-mta[24785]: 4A2JDevS024785: AUTH failure (PLAIN): authentication failure (-13) relay=host.example.net [203.0.113.80]
Nov 25 20:13:44 mx sm-mta[24786]: 4A2JDevS024786: AUTH failure (LOGIN): authentication failure (-13) relay=host.example.net [203.0.113.80]

--b3--
"""

ORIGINAL_SPAM = """\
Return-Path: <offers@spam.example.com>
Received: from mx2.isp.example.org (mx2.isp.example.org [10.1.2.3])
\tby mbox.isp.example.org with LMTP; Thu, 26 Nov 2026 07:59:10 +0000
Received: from bulk.example.com (customer-45.example.net [198.51.100.23])
\tby mx2.isp.example.org (Postfix) with ESMTP id 4ABC123; Thu, 26 Nov 2026 07:59:08 +0000
Received: from localhost (localhost [127.0.0.1])
\tby bulk.example.com; Thu, 26 Nov 2026 07:59:07 +0000
From: Great Offers <offers@spam.example.com>
To: victim@isp.example.org
Subject: You have won a prize
Date: Thu, 26 Nov 2026 07:59:06 +0000
Message-ID: <prize-123@spam.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Click http://prize.example.com/claim now!
"""


def arf(feedback_fields, original, original_type="message/rfc822", subject="FW: You have won a prize"):
    return f"""\
From: ISP Feedback Loop <fbl@isp.example.org>
To: abuse@example.net
Subject: {subject}
Date: Thu, 26 Nov 2026 08:10:00 +0000
Message-ID: <arf-1@isp.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-b"

--arf-b
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP
198.51.100.23 on Thu, 26 Nov 2026 07:59:08 +0000.

--arf-b
Content-Type: message/feedback-report

{feedback_fields}
--arf-b
Content-Type: {original_type}
Content-Disposition: inline

{original}
--arf-b--
"""


ARF_SPAM = arf("""Feedback-Type: abuse
User-Agent: ExampleFBL/2.1
Version: 1
Original-Mail-From: <offers@spam.example.com>
Original-Rcpt-To: <victim@isp.example.org>
Arrival-Date: Thu, 26 Nov 2026 07:59:08 +0000
Reporting-MTA: dns; mx2.isp.example.org
Source-IP: 198.51.100.23 (customer-45.example.net)
Source-Port: 51234
Incidents: 1
Reported-Domain: spam.example.com
Reported-URI: http://prize.example.com/claim
""", ORIGINAL_SPAM)

ARF_RECEIVED = arf("""Feedback-Type: abuse
User-Agent: ExampleFBL/2.1
Version: 1
Reporting-MTA: dns; mx2.isp.example.org
""", ORIGINAL_SPAM.split("\n\n")[0] + "\n", "text/rfc822-headers")

ARF_AUTH = arf("""Feedback-Type: auth-failure
User-Agent: ExampleDMARC/1.0
Version: 1
Auth-Failure: dmarc
Original-Mail-From: <billing@example.org>
Arrival-Date: Thu, 26 Nov 2026 07:59:08 +0000
Source-IP: 198.51.100.99
Reported-Domain: example.org
Delivery-Result: reject
Authentication-Results: isp.example.org; dmarc=fail header.from=example.org
""", ORIGINAL_SPAM.split("\n\n")[0] + "\n", "text/rfc822-headers", "DMARC failure report for example.org")

ARF_NO_ORIGINAL = """\
From: Complaints <complaints@isp.example.org>
To: abuse@example.net
Subject: Abuse report
Date: Thu, 26 Nov 2026 08:10:00 +0000
Message-ID: <arf-4@isp.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="arf-c"

--arf-c
Content-Type: text/plain

An abuse report.

--arf-c
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Something/1.0
Version: 1
Source-IP: 203.0.113.200

--arf-c--
"""

IODEF_XML = """<?xml version="1.0" encoding="UTF-8"?>
<IODEF-Document version="1.00" lang="en" xmlns="urn:ietf:params:xml:ns:iodef-1.0">
  <Incident purpose="reporting">
    <IncidentID name="abuse.example.org">AB-2026-000123</IncidentID>
    <ReportTime>2026-11-27T10:00:00+00:00</ReportTime>
    <Description>Spam run from a customer address</Description>
    <Assessment>
      <Impact type="ext-value" ext-type="SPAM" completion="succeeded">Spam</Impact>
    </Assessment>
    <Contact role="creator" type="organization">
      <ContactName>Example Abuse Desk</ContactName>
      <Email>abuse@example.org</Email>
    </Contact>
    <EventData>
      <DetectTime>2026-11-27T09:30:00+00:00</DetectTime>
      <Flow>
        <System category="source">
          <Node>
            <Address category="ipv4-addr">203.0.113.17</Address>
          </Node>
          <Service ip_protocol="6"><Port>25</Port></Service>
        </System>
      </Flow>
      <Record>
        <RecordData>
          <RecordItem dtype="string">Nov 27 09:30:00 mx postfix/smtpd[123]: NOQUEUE: reject: RCPT from unknown[203.0.113.17]: 554 5.7.1 spamtrap hit</RecordItem>
        </RecordData>
      </Record>
    </EventData>
  </Incident>
</IODEF-Document>
"""

IODEF_MAIL = f"""\
From: Example Abuse Desk <notifier@abuse.example.org>
To: abuse@example.net
Subject: [AB-2026-000123] Notification: SPAM from 203.0.113.17
Date: Fri, 27 Nov 2026 10:00:05 +0000
Message-ID: <iodef-1@abuse.example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="io-b"

--io-b
Content-Type: text/plain; charset=us-ascii

Dear abuse team, attached is an incident report in IODEF format.

--io-b
Content-Type: application/gzip; name="iodef.xml.gz"
Content-Disposition: attachment; filename="iodef.xml.gz"
Content-Transfer-Encoding: base64

{b64(gz(IODEF_XML))}
--io-b--
"""

NTP_CSV = (
    '"timestamp","ip","protocol","port","hostname","tag","asn","geo","region","city","naics","sic",'
    '"sector","packets","size","response_size","amplification"\n'
    '"2026-11-27 03:14:15","192.0.2.123","udp",123,"ntp1.example.net","ntpmonitor",64496,"DE","HESSEN",'
    '"FRANKFURT AM MAIN",517311,,"Communications, Service Provider, and Hosting Service",6,"2880",2880,6.57\n'
    '"2026-11-27 03:15:02","198.51.100.5","udp",123,,"ntpmonitor",64496,"DE","BERLIN","BERLIN",,,,'
    '1,"468",468,1.07\n'
)

SHADOWSERVER_MAIL = f"""\
From: Shadowserver <autoreports@shadowserver.org>
To: abuse@example.net
Subject: [Example] Shadowserver Example NTP Monitor Report: 2026-11-27
Date: Fri, 27 Nov 2026 06:12:00 +0000
Message-ID: <shadowserver-ntp-1@shadowserver.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="ss-b"

--ss-b
Content-Type: text/plain; charset=us-ascii

Attached is a Shadowserver NTP Monitor report for your network.

--ss-b
Content-Type: application/zip
Content-Disposition: attachment;
 filename="2026-11-27-scan_ntpmonitor-example-asn.csv.zip"
Content-Transfer-Encoding: base64

{b64(zipped("2026-11-27-scan_ntpmonitor-example-asn.csv", NTP_CSV))}
--ss-b--
"""

SPAMCOP = """\
From: SpamCop <1234567890@reports.spamcop.net>
To: abuse@example.net
Subject: [SpamCop (192.0.2.99) id:7000000001]You have won
Date: Thu, 26 Nov 2026 12:00:00 +0000
Message-ID: <rid_7000000001@msgid.spamcop.net>
X-Spamcop-Sourceip: 192.0.2.99
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

[ SpamCop V5.4.0 ]
This message is brief for your comfort.  Please use links below for details.

Email from 192.0.2.99 / Thu, 26 Nov 2026 11:58:01 +0000
https://www.spamcop.net/w3m?i=z7000000001z

[ Offending message ]
Received: from bulk.example.com (bulk.example.com [192.0.2.99])
\tby mx.example.org; Thu, 26 Nov 2026 11:58:01 +0000
From: Offers <offers@example.com>
Subject: You have won

Click here.
"""

CERTBUND = """\
From: CERT-Bund Reports <reports@reports.cert-bund.example>
To: abuse@example.net
Subject: [CB-Report#20261127-10000001] Offene SNMP-Dienste in AS64496
Date: Fri, 27 Nov 2026 05:00:00 +0100
Message-ID: <cb-1@reports.cert-bund.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Sehr geehrte Damen und Herren,

nachfolgend senden wir Ihnen eine Liste betroffener Systeme mit offenen
SNMP-Diensten, die für DDoS-Reflection-Angriffe missbraucht werden können.

Affected hosts on your networks:

"asn","ip","timestamp","system_desc"
"64496","192.0.2.161","2026-11-26 03:11:40","Linux R6100 mips"
"64496","198.51.100.162","2026-11-26 03:12:48","Switch J9979A"

Mit freundlichen Grüßen
"""

DMARC_AGG = f"""\
From: noreply-dmarc-support@example.com
To: dmarc@example.net
Subject: Report domain: example.net Submitter: example.com Report-ID: <123456>
Date: Fri, 27 Nov 2026 01:00:00 +0000
Message-ID: <dmarc-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="dm"

--dm
Content-Type: text/plain

This is an aggregate report from example.com.

--dm
Content-Type: application/gzip; name="example.com!example.net!1764115200!1764201599.xml.gz"
Content-Disposition: attachment; filename="example.com!example.net!1764115200!1764201599.xml.gz"
Content-Transfer-Encoding: base64

{b64(gz('<?xml version="1.0"?><feedback><report_metadata><org_name>example.com</org_name></report_metadata><record><row><source_ip>192.0.2.1</source_ip><count>1</count></row></record></feedback>'))}
--dm--
"""

BOUNCE = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: abuse@example.net
Subject: Undelivered Mail Returned to Sender
Date: Fri, 27 Nov 2026 02:00:00 +0000
Message-ID: <bounce-1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain

This is the mail system at host mx.example.org. Your message to abuse@example.org could not be delivered.

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Final-Recipient: rfc822; abuse@example.org
Action: failed
Status: 5.1.1

--dsn--
"""

AUTO_REPLY = """\
From: Abuse Desk <abuse@example.org>
To: abuse@example.net
Subject: Automatic reply: Abuse report about 192.0.2.45
Date: Fri, 27 Nov 2026 03:00:00 +0000
Message-ID: <ooo-1@example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: text/plain

I am out of the office until Monday. Your report about 192.0.2.45 will be handled then.
"""

XARF_V4 = """{
  "xarf_version": "4.2.0",
  "report_id": "6f1b2c3d-4e5f-4a6b-9c8d-0e1f2a3b4c5d",
  "timestamp": "2026-11-27T08:00:00Z",
  "reporter": {"org": "Example Honeypots", "contact": "abuse@example.org", "domain": "example.org"},
  "sender": {"org": "Example Honeypots", "contact": "abuse@example.org", "domain": "example.org"},
  "source_identifier": "192.0.2.77",
  "source_port": 45621,
  "category": "connection",
  "type": "login_attack",
  "protocol": "tcp",
  "service": "ssh",
  "destination_ip": "203.0.113.22",
  "destination_port": 22,
  "first_seen": "2026-11-27T06:00:00Z",
  "evidence_source": "honeypot"
}
"""

XARF_V3_JSON = """{
  "Version": "3",
  "ReporterInfo": {"ReporterOrg": "Example Org", "ReporterOrgDomain": "example.org",
                   "ReporterOrgEmail": "reports@example.org"},
  "Disclosure": true,
  "Report": {"ReportClass": "Vulnerability", "ReportType": "OpenService", "ServiceName": "memcached",
             "TransportProtocol": "udp", "Date": "2026-11-26T14:17:10Z",
             "SourceIp": "198.51.100.211", "SourcePort": 11211}
}
"""

XARF_V3_MAIL = f"""\
From: Example Org Reports <reports@example.org>
To: abuse@example.net
Subject: Open memcached service on 198.51.100.211
Date: Thu, 26 Nov 2026 14:20:00 +0000
Message-ID: <xarf-v3-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="xb"

--xb
Content-Type: text/plain

An open memcached service was found on 198.51.100.211.

--xb
Content-Type: message/feedback-report

Feedback-Type: xarf
User-Agent: ExampleXarf/3.0
Version: 1

--xb
Content-Type: application/json; name="xarf.json"
Content-Disposition: attachment; filename="xarf.json"
Content-Transfer-Encoding: base64

{b64(XARF_V3_JSON.encode())}
--xb--
"""

ACNS = """\
From: Copyright Agent <notices@agent.example.org>
To: abuse@example.net
Subject: Notice of Claimed Infringement - Case ID 7000001
Date: Fri, 27 Nov 2026 11:00:00 +0000
Message-ID: <acns-1@agent.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Dear Sir or Madam, we have detected the following copyright infringement.

<?xml version="1.0" encoding="UTF-8"?>
<Infringement xmlns="http://www.acns.net/ACNS">
  <Case><ID>7000001</ID><Status>OPEN</Status></Case>
  <Complainant><Entity>Example Studios</Entity><Email>notices@agent.example.org</Email></Complainant>
  <Source>
    <TimeStamp>2026-11-27T10:41:02Z</TimeStamp>
    <IP_Address>203.0.113.66</IP_Address>
    <Port>51413</Port>
    <DNS_Name>unknown</DNS_Name>
    <Type>P2P</Type>
    <SubType BaseType="P2P" Protocol="BITTORRENT"/>
  </Source>
  <Content><Item><Title>Example Movie</Title><FileName>Example.Movie.2026.mkv</FileName></Item></Content>
</Infringement>
"""

write("acns", "bittorrent", "ACNS copyright notice embedded in a plain-text mail: fraud/copyright p2p",
      "input.eml", ACNS)
write("x-arf", "fail2ban-ssh", "X-ARF 0.2 fail2ban mail: login-attack with sshd log evidence, Occurances spelling",
      "input.eml", XARF_FAIL2BAN)
write("x-arf", "inline-forwarded", "X-ARF report quoted inline in a forwarded plain-text body, private schema URL",
      "input.eml", XARF_INLINE)
write("x-arf", "info-evidence-wins", "Report-Type info, but the log shows SMTP AUTH failures: the evidence wins",
      "input.eml", XARF_INFO_EVIDENCE)
write("arf", "spam-complaint", "ARF abuse report with Source-IP, Source-Port and the original message: spam",
      "input.eml", ARF_SPAM)
write("arf", "received-chain", "ARF without Source-IP: source from the Received chain (private hop skipped)",
      "input.eml", ARF_RECEIVED)
write("arf", "auth-failure", "DMARC auth-failure report: not spam, undetermined with its identifier",
      "input.eml", ARF_AUTH)
write("arf", "abuse-no-original", "ARF abuse without the original message: never guessed as spam",
      "input.eml", ARF_NO_ORIGINAL)
write("iodef", "abuseio-spam-gz", "IODEF 1.0 as gzipped attachment (AbuseIO style), Impact ext-type SPAM",
      "input.eml", IODEF_MAIL)
write("iodef", "standalone", "Standalone IODEF 1.0 XML document", "input.xml", IODEF_XML)
write("mail", "shadowserver-ntp-monitor-zip", "Shadowserver NTP monitor mail with a zipped CSV attachment",
      "input.eml", SHADOWSERVER_MAIL)
write("spamcop", "spam-source", "SpamCop plain-text report: Email from <ip> / <date>", "input.eml", SPAMCOP)
write("cert-notice", "certbund-inline-csv", "CERT-Bund style notice with inline CSV: open SNMP (amplifier)",
      "input.eml", CERTBUND)
write("mail", "dmarc-aggregate", "DMARC aggregate report: not a report, no events", "input.eml", DMARC_AGG)
write("mail", "bounce", "Delivery status notification: not a report", "input.eml", BOUNCE)
write("mail", "auto-reply", "Out-of-office auto-reply quoting an address: not a report", "input.eml", AUTO_REPLY)
write("xarf", "v4-login-attack", "Standalone XARF v4 JSON login_attack", "input.json", XARF_V4)
write("xarf", "v3-in-arf", "XARF v3 JSON in the ARF wrapper (Feedback-Type: xarf): open memcached",
      "input.eml", XARF_V3_MAIL)
