// ACNS copyright infringement notices (the <Infringement> XML that copyright agents embed in mails).
#pragma once

#include <string_view>

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::acns {

// Finds an <Infringement> document in the mail's text or attachments; false when there is none.
bool parse_acns_mail(ParseContext& ctx, const mail::ParsedMail& mail);
// Parses the first <Infringement>...</Infringement> in `text`.
bool parse_acns(ParseContext& ctx, std::string_view text, const mail::ParsedMail& mail);

const Format& acns_format();

}  // namespace klartext::formats::acns
