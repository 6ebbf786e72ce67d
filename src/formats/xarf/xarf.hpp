// X-ARF 0.1/0.2 (YAML report.txt) and XARF v1-v4 (JSON) reports, in mails and as standalone files.
#pragma once

#include <string_view>

#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::xarf {

// A text block with the keys of an X-ARF 0.x report (Report-Type plus Source/Schema-URL/...).
bool looks_like_xarf_yaml(std::string_view text);
// A JSON document with "xarf_version" (v4) or ReporterInfo/Report (v1-v3).
bool looks_like_xarf_json(std::string_view text);

// X-ARF 0.x: `report` is the YAML/key-value block, `evidence` the log part (may be empty).
bool parse_xarf_yaml(ParseContext& ctx, std::string_view report, std::string_view evidence,
                     const mail::ParsedMail& mail);
// Finds the report part (or a report quoted inline in a forwarded body) in a mail.
bool parse_xarf_yaml_mail(ParseContext& ctx, const mail::ParsedMail& mail);

// XARF JSON (v1-v3 or v4); validates the required fields and records what is missing.
bool parse_xarf_json(ParseContext& ctx, std::string_view json, const mail::ParsedMail& mail);
// Finds a JSON report part (ARF wrapper with Feedback-Type: xarf, or any xarf.json part).
bool parse_xarf_json_mail(ParseContext& ctx, const mail::ParsedMail& mail);

const Format& xarf_yaml_format();
const Format& xarf_json_format();

}  // namespace klartext::formats::xarf
