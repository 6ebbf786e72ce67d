// SpamCop reports that are not ARF: spam-source reports and spamvertised-site reports.
#pragma once

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::spamcop {

// False when the mail is not a SpamCop report.
bool parse_spamcop(ParseContext& ctx, const mail::ParsedMail& mail);

const Format& spamcop_format();

}  // namespace klartext::formats::spamcop
