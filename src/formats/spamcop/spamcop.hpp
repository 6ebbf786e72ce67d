// SpamCop reports that are not ARF: spam-source reports and spamvertised-site reports.
#pragma once

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::spamcop {

// False when the mail is not a SpamCop report.
bool parse_spamcop(ParseContext& ctx, const mail::ParsedMail& mail);

// Only the "Spamvertised web site" lines of a SpamCop mail (SpamCop's ARF reports carry them in
// the human part: the site's host is a second party the report is about). Returns events emitted.
std::size_t parse_spamvertised(ParseContext& ctx, const mail::ParsedMail& mail);

const Format& spamcop_format();

}  // namespace klartext::formats::spamcop
