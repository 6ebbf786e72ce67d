// The mail format: detects RFC 5322 mails and routes them to the report format they carry.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "formats/format.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::mail {

const Format& mail_format();

// Parses one mail: MIME walk, then the first structured report format that claims it, then
// not-a-report verdicts, then free text. Every event gets the link fields of the mail.
void parse_mail(ParseContext& ctx);

// A fresh event with feed.provider (sender domain) and feed.name set.
core::Event new_event(const ParsedMail& mail, std::string_view feed_name);
// The same into `e` (cleared first, its capacity kept): for parsers that emit many events.
void reset_event(core::Event& e, const ParsedMail& mail, std::string_view feed_name);
// time.source = `t` when known; otherwise the mail's Date, marked by extra.time_source_origin.
void set_event_time(core::Event& e, std::optional<core::Timestamp> t, const ParsedMail& mail);

// The readable text of a mail: text/plain parts (HTML converted when there is no plain text),
// excluding parts of attached original messages when `include_attached_messages` is false.
// Built once per mail and flag (cached in `mail`).
const std::string& mail_text(const ParsedMail& mail, bool include_attached_messages = true);
std::string html_to_text(std::string_view html);

// Verdict for mails that are not abuse reports ("dmarc-aggregate", "delivery-status",
// "auto-reply", "ticket-acknowledgement"); empty when the mail may be a report.
std::string detect_not_a_report(const ParsedMail& mail);
std::string detect_acknowledgement(const ParsedMail& mail);

}  // namespace klartext::formats::mail
