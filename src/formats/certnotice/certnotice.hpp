// CERT notices (CERT-Bund and alike) with affected systems as an inline CSV table or key/value blocks.
#pragma once

#include <string_view>

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::certnotice {

// False when the mail has no inline table/blocks with IP addresses (free text takes it then).
bool parse_cert_notice(ParseContext& ctx, const mail::ParsedMail& mail);

// Exposed for tests: events from a notice text with a given subject.
bool parse_notice_text(ParseContext& ctx, std::string_view subject, std::string_view text,
                       const mail::ParsedMail& mail);

const Format& cert_notice_format();

}  // namespace klartext::formats::certnotice
