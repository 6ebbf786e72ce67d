// ARF feedback reports (RFC 5965, 6591, 6650, 6692): every feedback type, source from Source-IP
// or the Received chain of the attached original.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::arf {

// Parses the ARF report of a mail; false when the mail has no feedback-report part.
bool parse_arf(ParseContext& ctx, const mail::ParsedMail& mail);

// The connecting IP of the first Received hop (top down) outside the reporter's own domains and
// not a private, loopback or otherwise non-routable address. `received` is top-down order.
std::optional<core::IpAddress> source_from_received(const std::vector<std::string_view>& received,
                                                    const std::vector<std::string>& own_domains);

// Standalone "message/feedback-report" field blocks.
const Format& arf_format();

}  // namespace klartext::formats::arf
