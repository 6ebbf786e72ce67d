// Facebook ThreatExchange threat descriptors (JSON), as AbuseIO's "AITE" notifications attach them
// (report.json.gz), in a mail or standalone.
#pragma once

#include <string_view>

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::threatexchange {

// A JSON object (or an array / JSON Lines of them) with the descriptor members "raw_indicator",
// "owner" and "status".
bool looks_like_threat_descriptor(std::string_view text);
// One event per descriptor: the indicator (URL, domain or address), the address the feed resolved
// it to, the time it was added. The class comes from data/formats/report_types.yaml, section
// "threatexchange", keyed "<owner name>/<indicator type>", and only for status MALICIOUS: a feed
// that publishes one kind of indicator says what it is; anything else stays other/undetermined
// with the descriptor as evidence.
bool parse_threat_descriptors(ParseContext& ctx, std::string_view json, const mail::ParsedMail& mail);

const Format& threat_exchange_format();

}  // namespace klartext::formats::threatexchange
