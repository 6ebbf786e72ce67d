// The letter model: what a letter to one customer is made of, independent of the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "core/ip.hpp"
#include "core/taxonomy.hpp"
#include "core/timestamp.hpp"

namespace klartext::letters {

struct Customer {
  std::string id;
  std::string name;
  std::vector<std::string> emails;
  std::string language;   // "de" or "en"; empty: the configured default
  std::string time_zone;  // IANA name, e.g. "Europe/Berlin"; empty: the configured default
};

enum class EvidenceKind : std::uint8_t {
  kCsvRow,  // one row of a CSV report, with the report's header line
  kMail,    // a whole report mail (RFC 5322 bytes), attached as message/rfc822
  kText,    // any other original record (a JSON object, a line of text)
};

// One original record exactly as the reporter sent it.
struct Evidence {
  EvidenceKind kind = EvidenceKind::kText;
  std::string header;       // kCsvRow: the header line, without line end
  std::string bytes;        // kCsvRow: the row without line end; kMail: the mail; kText: the record
  std::string source_name;  // report file or mail name, for the attachment's name (may be empty)
  // kMail: the parts of the mail that are this case's evidence (the events' raw: the lines naming
  // the address, the report part), quoted inline under the mail's From/Date/Subject; may be empty.
  std::string excerpt;
};

// Turns an event's `raw` (header line + row for CSV reports, or the record) into evidence.
Evidence evidence_from_raw(std::string_view raw, bool csv, std::string source_name = {});

// Our own measurement of the reported service, when a probe ran.
struct ProbeMeasurement {
  core::Timestamp at;
  std::string probe;                // probe catalogue entry, e.g. "ntp-monitor"
  std::uint64_t request_bytes = 0;  // UDP payload we sent
  std::uint64_t response_bytes = 0;
  std::uint32_t response_packets = 0;
};

struct Case {
  std::string id;
  core::Classification classification;
  std::string reported_as;  // the reporter's own label (report type, malware name, tag)
  std::string malware;      // malware family the reporter named, if any
  core::IpAddress source_ip;
  std::optional<std::uint16_t> port;
  std::string transport;  // "udp", "tcp" or empty
  core::Timestamp first_seen;
  core::Timestamp last_seen;
  std::uint64_t event_count = 0;
  core::Severity severity = core::Severity::kUnknown;
  std::string feed_provider;           // "Shadowserver Foundation"
  std::string feed_name;               // report name, e.g. "scan_ntpmonitor"
  std::string feed_documentation_url;  // the report's documentation
  bool previously_notified = false;    // changed case (already written about) rather than new
  std::vector<Evidence> evidence;      // in report order; may be a sample of event_count records
  std::optional<ProbeMeasurement> probe;
};

struct LetterInput {
  Customer customer;
  std::vector<Case> cases;
};

struct Attachment {
  std::string filename;
  std::string content_type;  // "text/csv", "message/rfc822", "text/plain"
  std::string bytes;         // verbatim
};

// A rendered letter, ready to be put into MIME.
struct Letter {
  std::string customer_id;
  std::vector<std::string> to;
  std::string language;
  std::string subject;  // UTF-8, unencoded
  std::string body;     // UTF-8 plain text, LF line ends
  std::vector<Attachment> attachments;
  std::vector<std::string> case_ids;
  // Cases whose identifier has no specific text in the knowledge base (notify warns about them).
  std::vector<std::string> cases_without_text;
};

}  // namespace klartext::letters
