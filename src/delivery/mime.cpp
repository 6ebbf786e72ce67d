// MIME construction with GMime 3; every GObject is held by an owning RAII pointer.
#include "delivery/mime.hpp"

#include "core/event.hpp"

#include <fmt/format.h>
#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
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

// The bytes quoted-printable writes as they are anywhere in a line: printable ASCII but '='.
constexpr std::array<bool, 256> kLiteral = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c <= 126; ++c) t[static_cast<std::size_t>(c)] = c != '=';
  return t;
}();

// True when each of the eight bytes in `w` is a space or printable ASCII other than '=' (exact: the
// classic SWAR tests for "some byte < n", "some byte > n" and "some byte == 0" have no false positives).
constexpr bool all_plain(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  const std::uint64_t above_tilde = ((w + kOnes * (127 - 0x7E)) | w) & kHigh;
  const std::uint64_t eq = w ^ (kOnes * '=');
  const std::uint64_t has_eq = (eq - kOnes) & ~eq & kHigh;
  return (below_space | above_tilde | has_eq) == 0;
}
static_assert(all_plain(0x2020202020202020ULL) && all_plain(0x7E7E7E7E21212121ULL));
static_assert(!all_plain(0x2020202020203D20ULL) && !all_plain(0x202020202020201FULL) &&
              !all_plain(0x7F20202020202020ULL) && !all_plain(0x20202020C3202020ULL) &&
              !all_plain(0x0A20202020202020ULL));

}  // namespace

namespace detail {

// Quoted-printable (RFC 2045 6.7) for a UTF-8 text with LF line ends: lines of at most 76 characters
// with soft breaks, '=' and non-ASCII and control bytes encoded, whitespace before a line end encoded.
// Written through a pointer into a buffer sized for the worst case (no per-byte push_back).
std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  // Worst case: every byte encoded (3) plus a soft break ("=\n") per 25 encoded bytes.
  // Written into an uninitialized buffer: zero-filling three times the text cost as much as encoding it.
  const std::size_t bound = text.size() * 3 + text.size() / 12 + 16;
  const auto buffer = std::make_unique_for_overwrite<char[]>(bound);
  char* const begin = buffer.get();
  char* o = begin;
  std::size_t col = 0;
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    // A run of printable ASCII up to the line's room is copied as it is (most of a letter); a space or
    // tab is part of the run unless it ends the text or a line (then it is encoded below).
    std::size_t j = i;
    const std::size_t end = std::min(n, i + (75 - col));
    // Eight bytes at a time while all are spaces or printable ASCII but '=': no line end among them,
    // so only the last one, if a space, can be one that must be encoded (checked against the next byte).
    while (j + 8 <= end) {
      std::uint64_t w = 0;
      std::memcpy(&w, text.data() + j, 8);
      if (!all_plain(w) || (text[j + 7] == ' ' && (j + 8 == n || text[j + 8] == '\n'))) break;
      j += 8;
    }
    while (j < end) {
      const char c = text[j];
      if (kLiteral[static_cast<unsigned char>(c)] || ((c == ' ' || c == '\t') && j + 1 < n && text[j + 1] != '\n')) {
        ++j;
      } else {
        break;
      }
    }
    if (j > i) {
      std::memcpy(o, text.data() + i, j - i);
      o += j - i;
      col += j - i;
      i = j;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      *o++ = '\n';
      col = 0;
      ++i;
      continue;
    }
    const bool literal =
        (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !(i + 1 == n || text[i + 1] == '\n'));
    const std::size_t width = literal ? 1 : 3;
    if (col + width > 75) {  // room for the soft break's '='
      *o++ = '=';
      *o++ = '\n';
      col = 0;
    }
    if (literal) {
      *o++ = static_cast<char>(c);
    } else {
      *o++ = '=';
      *o++ = kHex[c >> 4];
      *o++ = kHex[c & 15];
    }
    col += width;
    ++i;
  }
  return std::string(begin, o);
}

}  // namespace detail

namespace {

// Base64 in lines of 76 characters (19 groups of 4 per line), the last line ended too.
std::string base64_lines(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out((bytes.size() + 2) / 3 * 4 + bytes.size() / 57 + 2, '\0');
  char* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  std::size_t groups = 0;
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
    o += 4;
    if (++groups == 19) {
      *o++ = '\n';
      groups = 0;
    }
  }
  if (i < n) {
    std::uint32_t v = std::uint32_t{in[i]} << 16;
    if (i + 1 < n) v |= std::uint32_t{in[i + 1]} << 8;
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
    ++groups;
  }
  if (groups != 0) *o++ = '\n';
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

// A leaf part whose content is `bytes`, stored already encoded (GMime writes content whose encoding
// matches the part's as is, so its own filter chain is skipped; that halves the cost of a letter).
GPtr<GMimePart> leaf_part(const char* type, const char* subtype, std::string_view bytes,
                          GMimeContentEncoding encoding) {
  GPtr<GMimePart> part(g_mime_part_new_with_type(type, subtype));
  const std::string encoded =
      encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ? detail::quoted_printable(bytes) : base64_lines(bytes);
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

namespace {

// The multipart boundary of a letter: derived from its unique Message-ID, so the same letter always
// serializes to the same bytes (on both the GMime path and the direct one).
std::string boundary_of(const std::string& message_id) {
  return "=-klartext-" + core::hex_hash128(message_id);
}

// The message with its headers and an empty multipart/mixed (boundary set); the parts come after.
GPtr<GMimeMessage> message_frame(const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                                 const std::string& message_id, GMimeMultipart*& mixed_out) {
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
  g_mime_multipart_set_boundary(mixed.get(), boundary_of(message_id).c_str());
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(mixed.get()));
  mixed_out = mixed.get();  // owned by the message from here on
  return msg;
}

std::string serialize(GMimeMessage* msg) {
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_object_write_to_stream(GMIME_OBJECT(msg), nullptr, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// The leaf parts GMime would write without quoting, folding or parsing anything: the text and
// attachments whose type and file name are plain tokens short enough for one header line. Others
// (an original report mail, an unusual file name) take the all-GMime path.
bool plain_parts(const letters::Letter& letter) {
  if (letter.body.empty() || letter.body.back() != '\n') return false;
  for (const letters::Attachment& a : letter.attachments) {
    if (a.bytes.empty()) return false;
    const auto slash = a.content_type.find('/');
    if (slash == std::string::npos || a.content_type == "message/rfc822") return false;
    if (!is_token(a.content_type.substr(0, slash)) || !is_token(a.content_type.substr(slash + 1))) return false;
    if (!is_token(a.filename)) return false;
    // "Content-Disposition: attachment; filename=" is the longer header line: GMime folds past 78.
    if (42 + a.filename.size() > 76 || 22 + a.content_type.size() + a.filename.size() > 76) return false;
  }
  return true;
}

// ---- the message headers without a GObject tree ----

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GChars = std::unique_ptr<char, GFree>;

bool is_atext_run(std::string_view s, std::string_view extra) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// local@domain that GMime writes as it is: a dot-atom of plain characters and an ASCII host name.
bool plain_address(std::string_view a) {
  const auto at = a.find('@');
  if (at == std::string_view::npos || a.find('@', at + 1) != std::string_view::npos) return false;
  const std::string_view local = a.substr(0, at);
  const std::string_view domain = a.substr(at + 1);
  for (std::string_view part : {local, domain}) {
    if (part.empty() || part.front() == '.' || part.back() == '.' || part.find("..") != std::string_view::npos) {
      return false;
    }
  }
  return is_atext_run(local, "._+-") && is_atext_run(domain, ".-");
}

// The header fields (with their continuation lines) of a serialized header block whose name is one of
// `names`, in their order in the block.
std::string fields_named(std::string_view block, std::initializer_list<std::string_view> names) {
  std::string out;
  bool keep = false;
  while (!block.empty()) {
    const auto nl = block.find('\n');
    const std::string_view line = block.substr(0, nl == std::string_view::npos ? block.size() : nl + 1);
    block.remove_prefix(line.size());
    if (line == "\n") break;
    if (line.front() != ' ' && line.front() != '\t') {
      keep = false;
      for (std::string_view n : names) {
        keep = keep || (line.size() > n.size() && line.starts_with(n) && line[n.size()] == ':');
      }
    }
    if (keep) out += line;
  }
  return out;
}

// From: and Reply-To: as GMime writes them (display names quoted or encoded as needed); the same for
// every letter of a run, so built once per sender and thread.
const std::string& sender_fields(const Sender& sender) {
  thread_local Sender key;
  thread_local std::string fields;
  if (!fields.empty() && key.name == sender.name && key.address == sender.address && key.reply_to == sender.reply_to) {
    return fields;
  }
  init_gmime();
  GPtr<GMimeMessage> msg(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, sender.name.c_str(), sender.address.c_str());
  if (!sender.reply_to.empty()) {
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_REPLY_TO, nullptr, sender.reply_to.c_str());
  }
  fields = fields_named(serialize(msg.get()), {"From", "Reply-To"});
  key = sender;
  return fields;
}

// "Date: ...\n" in GMime's format; one date per run, built once per date and thread.
const std::string& date_field(core::Timestamp date) {
  thread_local std::int64_t key = 0;
  thread_local std::string field;
  if (!field.empty() && key == date.seconds()) return field;
  init_gmime();
  std::unique_ptr<GDateTime, GDateTimeUnref> when(g_date_time_new_from_unix_utc(date.seconds()));
  GChars text(g_mime_utils_header_format_date(when.get()));
  field = "Date: " + std::string(text.get()) + "\n";
  key = date.seconds();
  return field;
}

// An unstructured header as GMime writes one set with charset utf-8: RFC 2047 encoded words for
// non-ASCII words and folding at 78 columns, both by GMime's own functions; a short token is as it is.
bool append_unstructured(std::string& out, std::string_view name, const std::string& value) {
  if (value.empty() || value.front() == ' ' || value.back() == ' ') return false;
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;  // GMime's handling not reproduced
  }
  if (name.size() + 2 + value.size() <= 78 && is_atext_run(value, "._:/+-")) {
    out += name;
    out += ": ";
    out += value;
    out += '\n';
    return true;
  }
  GChars encoded(g_mime_utils_header_encode_text(nullptr, value.c_str(), "utf-8"));
  if (!encoded) return false;
  std::string field(name);
  field += ": ";
  field += encoded.get();
  GChars folded(g_mime_utils_unstructured_header_fold(nullptr, nullptr, field.c_str()));
  if (!folded) return false;
  out += folded.get();
  if (out.back() != '\n') out += '\n';
  return true;
}

}  // namespace

namespace detail {

bool write_frame_headers(std::string& out, const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                         const std::string& message_id, std::string_view boundary) {
  if (letter.to.empty()) return false;
  for (const std::string& to : letter.to) {
    if (!plain_address(to)) return false;
  }
  const auto at = message_id.find('@');
  if (at == std::string::npos || !is_atext_run(message_id.substr(0, at), "._+-") ||
      !plain_address("x@" + message_id.substr(at + 1))) {
    return false;
  }
  out.clear();
  out.reserve(1024);
  out += date_field(date);
  out += sender_fields(sender);
  if (!append_unstructured(out, "Subject", letter.subject)) return false;
  const std::size_t to_start = out.size();
  out += "To: ";
  for (std::size_t i = 0; i < letter.to.size(); ++i) {
    if (i > 0) out += ", ";
    out += letter.to[i];
  }
  if (out.size() - to_start > 78) return false;  // GMime folds address lists its own way
  out += '\n';
  out += "Message-Id: <";
  out += message_id;
  out += ">\nAuto-Submitted: auto-generated\n";
  if (!append_unstructured(out, "X-Klartext-Customer", letter.customer_id)) return false;
  for (const std::string& id : letter.case_ids) {
    if (!append_unstructured(out, "X-Klartext-Case", id)) return false;
  }
  out += "MIME-Version: 1.0\nContent-Type: multipart/mixed;\n\tboundary=\"";
  out += boundary;
  out += "\"\n\n";
  return true;
}

std::string build_mime_gmime(const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                             const std::string& message_id) {
  GMimeMultipart* mixed = nullptr;
  GPtr<GMimeMessage> msg = message_frame(letter, sender, date, message_id, mixed);
  GPtr<GMimePart> text = leaf_part("text", "plain", letter.body, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(text.get()), "charset", "utf-8");
  g_mime_object_set_disposition(GMIME_OBJECT(text.get()), "inline");
  g_mime_multipart_add(mixed, GMIME_OBJECT(text.get()));
  for (const letters::Attachment& a : letter.attachments) {
    if (a.content_type == "message/rfc822") {
      GPtr<GMimeObject> part = mail_attachment(a);
      g_mime_multipart_add(mixed, part.get());
      continue;
    }
    const auto slash = a.content_type.find('/');
    const std::string type = a.content_type.substr(0, slash);
    const std::string subtype = slash == std::string::npos ? "octet-stream" : a.content_type.substr(slash + 1);
    // Base64 keeps the reporter's bytes (line ends, any charset) exactly.
    GPtr<GMimePart> part = leaf_part(type.c_str(), subtype.c_str(), a.bytes, GMIME_CONTENT_ENCODING_BASE64);
    g_mime_part_set_filename(part.get(), a.filename.c_str());
    g_mime_multipart_add(mixed, GMIME_OBJECT(part.get()));
  }
  return serialize(msg.get());
}

}  // namespace detail

std::string build_mime(const letters::Letter& letter, const Sender& sender, core::Timestamp date,
                       const std::string& message_id) {
  if (!plain_parts(letter)) return detail::build_mime_gmime(letter, sender, date, message_id);
  // The headers are written here in exactly the bytes GMime writes for them (GMime's own encoder and
  // folder do the Subject; the sender's lines and the Date line come from GMime once per sender and
  // date), and the plain leaf parts are spliced in after them (tests/unit/mime_test.cpp compares both
  // paths). Building, writing and freeing a GObject tree per letter cost more than the rest of the
  // letter; values GMime would quote, encode or fold in ways not reproduced here take its path.
  const std::string boundary = boundary_of(message_id);
  std::string out;
  if (!detail::write_frame_headers(out, letter, sender, date, message_id, boundary)) {
    return detail::build_mime_gmime(letter, sender, date, message_id);
  }
  const std::string close = "\n--" + boundary + "--\n";
  const std::string text = detail::quoted_printable(letter.body);
  std::size_t size = out.size() + text.size() + 200 + close.size();
  for (const letters::Attachment& a : letter.attachments) size += a.bytes.size() * 4 / 3 + a.bytes.size() / 57 + 200;
  out.reserve(size);
  const auto open_part = [&] {
    out += "--";
    out += boundary;
    out += '\n';
  };
  open_part();
  out +=
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n"
      "Content-Disposition: inline\n\n";
  out += text;
  for (const letters::Attachment& a : letter.attachments) {
    out += '\n';
    open_part();
    out += "Content-Type: ";
    out += a.content_type;
    out += "; name=";
    out += a.filename;
    out += "\nContent-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=";
    out += a.filename;
    out += "\n\n";
    out += base64_lines(a.bytes);
  }
  out += close;
  return out;
}

}  // namespace klartext::delivery
