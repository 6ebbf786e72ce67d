// MIME construction with GMime 3; every GObject is held by an owning RAII pointer.
#include "delivery/mime.hpp"

#include "core/event.hpp"

#include <fmt/format.h>
#include <gmime/gmime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

namespace klartext::delivery {
namespace {

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GDateTimeUnref {
  void operator()(GDateTime* p) const {
    if (p) g_date_time_unref(p);
  }
};

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

GPtr<GMimeStream> memory_stream(std::string_view bytes) {
  return GPtr<GMimeStream>(
      g_mime_stream_mem_new_with_buffer(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// Quoted-printable (RFC 2045 6.7) for a UTF-8 text with LF line ends: lines of at most 76 characters
// with soft breaks, '=' and non-ASCII and control bytes encoded, whitespace before a line end encoded.
std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 16);
  std::size_t col = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out.push_back('\n');
      col = 0;
      continue;
    }
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n';
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    const std::size_t width = literal ? 1 : 3;
    if (col + width > 75) {  // room for the soft break's '='
      out += "=\n";
      col = 0;
    }
    if (literal) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('=');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
    col += width;
  }
  return out;
}

// Base64 in lines of 76 characters.
std::string base64_lines(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4 + bytes.size() / 57 + 2);
  std::size_t col = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (n > 1) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (n > 2) v |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(n > 1 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back(n > 2 ? kAlphabet[v & 63] : '=');
    col += 4;
    if (col == 76) {
      out.push_back('\n');
      col = 0;
    }
  }
  if (col != 0) out.push_back('\n');
  return out;
}

// A leaf part whose content is `bytes`, stored already encoded (GMime writes content whose encoding
// matches the part's as is, so its own filter chain is skipped; that halves the cost of a letter).
GPtr<GMimePart> leaf_part(const char* type, const char* subtype, std::string_view bytes,
                          GMimeContentEncoding encoding) {
  GPtr<GMimePart> part(g_mime_part_new_with_type(type, subtype));
  const std::string encoded =
      encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ? quoted_printable(bytes) : base64_lines(bytes);
  GPtr<GMimeStream> stream = memory_stream(encoded);
  GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(stream.get(), encoding));
  g_mime_part_set_content(part.get(), wrapper.get());
  g_mime_part_set_content_encoding(part.get(), encoding);
  return part;
}

// The original report mail as message/rfc822; when GMime cannot parse it, the bytes go out untouched
// as application/octet-stream so that no evidence is lost.
GPtr<GMimeObject> mail_attachment(const letters::Attachment& a) {
  GPtr<GMimeStream> stream = memory_stream(a.bytes);
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> original(g_mime_parser_construct_message(parser.get(), nullptr));
  if (original) {
    GPtr<GMimeObject> part(GMIME_OBJECT(g_mime_message_part_new_with_message("rfc822", original.get())));
    g_mime_object_set_disposition(part.get(), "attachment");
    g_mime_object_set_content_disposition_parameter(part.get(), "filename", a.filename.c_str());
    return part;
  }
  GPtr<GMimePart> part = leaf_part("application", "octet-stream", a.bytes, GMIME_CONTENT_ENCODING_BASE64);
  g_mime_part_set_filename(part.get(), a.filename.c_str());
  return GPtr<GMimeObject>(GMIME_OBJECT(part.release()));
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 >= address.size()) return "localhost";
  return std::string(address.substr(at + 1));
}

}  // namespace

std::string make_message_id(std::string_view sender_address, core::Timestamp now) {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t salt = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("klartext.{:x}.{:016x}.{:x}@{}", now.micros(), salt, n, domain_of(sender_address));
}

std::string build_mime(const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                       const std::string& message_id) {
  init_gmime();
  GPtr<GMimeMessage> msg(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, sender.name.c_str(), sender.address.c_str());
  if (!sender.reply_to.empty()) {
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_REPLY_TO, nullptr, sender.reply_to.c_str());
  }
  for (const std::string& to : letter.to) {
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, nullptr, to.c_str());
  }
  g_mime_message_set_subject(msg.get(), letter.subject.c_str(), "utf-8");
  std::unique_ptr<GDateTime, GDateTimeUnref> when(g_date_time_new_from_unix_utc(date.seconds()));
  g_mime_message_set_date(msg.get(), when.get());
  g_mime_message_set_message_id(msg.get(), message_id.c_str());
  GMimeObject* top = GMIME_OBJECT(msg.get());
  g_mime_object_append_header(top, "Auto-Submitted", "auto-generated", nullptr);
  g_mime_object_append_header(top, "X-Klartext-Customer", letter.customer_id.c_str(), "utf-8");
  for (const std::string& id : letter.case_ids) {
    g_mime_object_append_header(top, "X-Klartext-Case", id.c_str(), "utf-8");
  }

  GPtr<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
  // Derived from the unique Message-ID, so the same letter always serializes to the same bytes.
  g_mime_multipart_set_boundary(mixed.get(), ("=-klartext-" + core::hex_hash128(message_id)).c_str());
  GPtr<GMimePart> text = leaf_part("text", "plain", letter.body, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(text.get()), "charset", "utf-8");
  g_mime_object_set_disposition(GMIME_OBJECT(text.get()), "inline");
  g_mime_multipart_add(mixed.get(), GMIME_OBJECT(text.get()));
  for (const letters::Attachment& a : letter.attachments) {
    if (a.content_type == "message/rfc822") {
      GPtr<GMimeObject> part = mail_attachment(a);
      g_mime_multipart_add(mixed.get(), part.get());
      continue;
    }
    const auto slash = a.content_type.find('/');
    const std::string type = a.content_type.substr(0, slash);
    const std::string subtype = slash == std::string::npos ? "octet-stream" : a.content_type.substr(slash + 1);
    // Base64 keeps the reporter's bytes (line ends, any charset) exactly.
    GPtr<GMimePart> part = leaf_part(type.c_str(), subtype.c_str(), a.bytes, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_part_set_filename(part.get(), a.filename.c_str());
    g_mime_multipart_add(mixed.get(), GMIME_OBJECT(part.get()));
  }
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(mixed.get()));

  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_object_write_to_stream(top, nullptr, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace klartext::delivery
