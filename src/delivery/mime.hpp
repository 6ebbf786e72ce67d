// Builds the RFC 5322 MIME message of a letter with GMime (multipart/mixed, QP text, evidence attachments).
#pragma once

#include <string>
#include <string_view>

#include "core/timestamp.hpp"
#include "letters/letter.hpp"

namespace klartext::delivery {

struct Sender {
  std::string name = "Abuse Desk";
  std::string address = "abuse@example.org";
  std::string reply_to;  // empty: none
};

// A fresh Message-ID (without angle brackets) in the sender address's domain.
std::string make_message_id(std::string_view sender_address, core::Timestamp now);

// The whole message, LF line ends. Subject and display names are RFC 2047-encoded when not ASCII;
// the body is text/plain UTF-8 quoted-printable; each attachment carries its file name; one
// `X-Klartext-Case:` header per case.
std::string build_mime(const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                       const std::string& message_id);

namespace detail {
// The text/plain body's quoted-printable: lines of at most 76 characters, LF line ends.
std::string quoted_printable(std::string_view text);
// The same message with every part built and written by GMime: the path for letters with parts
// build_mime does not splice itself, and the reference its spliced parts are tested against.
std::string build_mime_gmime(const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                             const std::string& message_id);
// The headers and the blank line after them as GMime writes them for build_mime's multipart/mixed
// frame, into `out`; false when a value needs handling this writer leaves to GMime.
bool write_frame_headers(std::string& out, const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                         const std::string& message_id, std::string_view boundary);
}  // namespace detail

}  // namespace klartext::delivery
