// IODEF 1.0 (RFC 5070) and 2.0 (RFC 7970) XML incident reports, attached to mails or standalone.
#pragma once

#include <string_view>

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::iodef {

bool looks_like_iodef(std::string_view text);
// One event per source System of every Incident; the Impact type (or an AbuseIO class in
// ext-type) decides the class via data/formats/report_types.yaml.
bool parse_iodef(ParseContext& ctx, std::string_view xml, const mail::ParsedMail& mail);
// Finds an IODEF part (plain, not compressed: archives go through the attachment path).
bool parse_iodef_mail(ParseContext& ctx, const mail::ParsedMail& mail);

const Format& iodef_format();

}  // namespace klartext::formats::iodef
