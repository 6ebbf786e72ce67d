// GMime-based MIME walk: decodes every part once, enforcing the depth/part/size limits.
#include "formats/mail/mime.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>

namespace klartext::formats::mail {

namespace {

struct GObjectUnref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GString = std::unique_ptr<char, GFree>;

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string take(char* s) {
  GString owned(s);
  return s != nullptr ? std::string(s) : std::string();
}

// glibc unloads a charset's converter module when the last iconv descriptor using it is closed,
// and GMime opens and closes one for every text part it converts: loading the module again
// (dlopen) was most of the conversion's cost. One descriptor per charset, for up to kPinned
// charsets, stays open for the life of the process and keeps its module loaded; the conversions
// themselves are GMime's as before.
void keep_converter_loaded(const char* charset) {
  constexpr std::size_t kPinned = 32;
  // Charsets tried (opened or not: each is tried once) and their descriptors, closed at exit.
  struct Pinned {
    std::mutex mu;
    std::vector<std::pair<std::string, iconv_t>> open;
    ~Pinned() {
      for (auto& [name, cd] : open) {
        if (cd != reinterpret_cast<iconv_t>(-1)) g_mime_iconv_close(cd);
      }
    }
  };
  static Pinned pinned;
  std::string name = lower(charset);
  std::lock_guard lock(pinned.mu);
  if (pinned.open.size() >= kPinned) return;
  for (const auto& p : pinned.open) {
    if (p.first == name) return;
  }
  pinned.open.emplace_back(std::move(name), g_mime_iconv_open("UTF-8", charset));
}

class Walker {
 public:
  // `source`: the byte array of the stream the mail was parsed from.
  Walker(ParseContext& ctx, ParsedMail& mail, const GByteArray* source) : ctx_(ctx), mail_(mail), source_(source) {}

  void walk(GMimeObject* obj, int depth) {
    if (obj == nullptr || stopped_) return;
    if (static_cast<std::uint64_t>(depth) > ctx_.limits().max_mime_depth) {
      ctx_.issue("mime-depth-limit", 0, 0, "MIME nesting deeper than limits.max_mime_depth; deeper parts skipped", {},
                 "raise [limits] max_mime_depth if this mail is legitimate");
      stopped_ = true;
      return;
    }
    if (mail_.parts.size() >= ctx_.limits().max_mime_parts) {
      ctx_.issue("mime-parts-limit", 0, 0, "more MIME parts than limits.max_mime_parts; the rest skipped", {},
                 "raise [limits] max_mime_parts if this mail is legitimate");
      stopped_ = true;
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      int n = g_mime_multipart_get_count(mp);
      for (int i = 0; i < n && !stopped_; ++i) walk(g_mime_multipart_get_part(mp, i), depth + 1);
      return;
    }
    MimePart part;
    part.index = mail_.parts.size();
    part.depth = depth;
    fill_meta(obj, part);
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      part.is_message = true;
      if (inner != nullptr) part.body = take(g_mime_object_to_string(GMIME_OBJECT(inner), nullptr));
      if (part.body.size() > ctx_.limits().max_attachment_bytes) {
        attachment_too_big(part);
        part.body.clear();
      }
      mail_.parts.push_back(std::move(part));
      if (inner != nullptr) walk(g_mime_message_get_mime_part(inner), depth + 1);
      return;
    }
    if (GMIME_IS_PART(obj)) {
      GMimePart* p = GMIME_PART(obj);
      GMimeDataWrapper* content = g_mime_part_get_content(p);
      if (content != nullptr) {
        GMimeStream* src = g_mime_data_wrapper_get_stream(content);
        gint64 encoded = src != nullptr ? g_mime_stream_length(src) : 0;
        if (encoded > 0 && static_cast<std::uint64_t>(encoded) > ctx_.limits().max_attachment_bytes) {
          attachment_too_big(part);
        } else if (!GMIME_IS_TEXT_PART(obj) && is_signed_media(part, content, src)) {
          part.content_skipped = true;
        } else if (GMIME_IS_TEXT_PART(obj)) {
          text_body(GMIME_TEXT_PART(obj), content, part.body);
        } else {
          decoded_body(content, part.body);
        }
      }
    }
    mail_.parts.push_back(std::move(part));
  }

 private:
  void fill_meta(GMimeObject* obj, MimePart& part) {
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (ct != nullptr) part.content_type = lower(take(g_mime_content_type_get_mime_type(ct)));
    check_header_size(obj);
    if (GMIME_IS_PART(obj)) {
      const char* fn = g_mime_part_get_filename(GMIME_PART(obj));
      if (fn != nullptr) part.filename = fn;
    }
    GMimeContentDisposition* cd = g_mime_object_get_content_disposition(obj);
    if (cd != nullptr) {
      const char* d = g_mime_content_disposition_get_disposition(cd);
      part.attachment = d != nullptr && g_ascii_strcasecmp(d, "attachment") == 0;
    }
  }

  // The part's header block as GMime writes it is only needed when it may exceed the limit (for
  // the issue's excerpt): writing it for every part cost more than the rest of the walk. GMime
  // writes each header as raw name, ':' and raw value; the bound below allows twice that (a
  // newline conversion at most doubles it), so a block under half the limit is never written.
  void check_header_size(GMimeObject* obj) {
    GMimeHeaderList* list = g_mime_object_get_header_list(obj);
    std::uint64_t raw = 0;
    const int n = list != nullptr ? g_mime_header_list_get_count(list) : 0;
    for (int i = 0; i < n; ++i) {
      GMimeHeader* h = g_mime_header_list_get_header_at(list, i);
      const char* name = g_mime_header_get_raw_name(h);
      const char* value = g_mime_header_get_raw_value(h);
      if (name == nullptr || value == nullptr) {  // written from the parsed value: no bound, write it
        raw = ctx_.limits().max_header_bytes;
        break;
      }
      raw += std::strlen(name) + std::strlen(value) + 2;
    }
    if (2 * raw <= ctx_.limits().max_header_bytes) return;
    std::string headers = take(g_mime_object_get_headers(obj, nullptr));
    if (headers.size() > ctx_.limits().max_header_bytes) {
      ctx_.issue("header-limit", 0, 0, "MIME part headers larger than limits.max_header_bytes", headers);
    }
  }

  // The decoded content. A part of the mail's own buffer (GMime's parser keeps content as bounds
  // into the source stream) is decoded straight from those bytes into `out`, with the decoder
  // GMime's data wrapper runs (g_mime_encoding_step over the whole content, then flush): no filter
  // stream, no growing memory stream and no copy. Anything else goes through GMime as before.
  void decoded_body(GMimeDataWrapper* content, std::string& out) const {
    GMimeStream* src = g_mime_data_wrapper_get_stream(content);
    if (src != nullptr && GMIME_IS_STREAM_MEM(src)) {
      GByteArray* buf = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(src));
      if (buf == source_ && src->bound_start >= 0 && src->bound_start <= static_cast<gint64>(buf->len)) {
        const gint64 end = src->bound_end < 0 ? static_cast<gint64>(buf->len)
                                              : std::min<gint64>(src->bound_end, static_cast<gint64>(buf->len));
        const auto* bytes = reinterpret_cast<const char*>(buf->data) + src->bound_start;
        const auto len = static_cast<std::size_t>(std::max<gint64>(end - src->bound_start, 0));
        if (decode(g_mime_data_wrapper_get_encoding(content), std::string_view(bytes, len), out)) return;
      }
    }
    decoded_body_via_gmime(content, out);
  }

  // Base64 and quoted-printable (their decoders carry all state from call to call, so one call over
  // the whole content gives what GMime's filter gives chunk by chunk) and the identity encodings;
  // false for uuencode, which GMime's filter reads line by line itself.
  static bool decode(GMimeContentEncoding encoding, std::string_view in, std::string& out) {
    switch (encoding) {
      case GMIME_CONTENT_ENCODING_BASE64:
      case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE: break;
      case GMIME_CONTENT_ENCODING_UUENCODE: return false;
      default: out.assign(in); return true;
    }
    GMimeEncoding state;
    g_mime_encoding_init_decode(&state, encoding);
    out.resize(g_mime_encoding_outlen(&state, in.size()) + 16);
    std::size_t n = g_mime_encoding_step(&state, in.data(), in.size(), out.data());
    n += g_mime_encoding_flush(&state, "", 0, out.data() + n);
    out.resize(n);
    return true;
  }

  static void decoded_body_via_gmime(GMimeDataWrapper* content, std::string& out) {
    GPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(content, mem.get());
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    if (bytes != nullptr) out.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
  }

  // The text as g_mime_text_part_get_text gives it (UTF-8, cut at the first NUL), without its
  // charset conversion where that changes nothing: no charset, valid UTF-8 declared as UTF-8, or
  // ASCII in an ASCII-compatible charset. The conversion (iconv) was a tenth of the mail intake.
  void text_body(GMimeTextPart* text, GMimeDataWrapper* content, std::string& out) const {
    decoded_body(content, out);
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(text), "charset");
    if (charset == nullptr || conversion_keeps(charset, out)) {
      if (std::size_t nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
      return;
    }
    keep_converter_loaded(charset);
    out = take(g_mime_text_part_get_text(text));
  }

  static bool conversion_keeps(std::string_view charset, std::string_view bytes) {
    static constexpr std::string_view kAsciiCompatible[] = {"us-ascii",    "ascii",        "iso-8859-1", "latin1",
                                                            "iso-8859-15", "windows-1252", "cp1252"};
    if (iequals(charset, "utf-8") || iequals(charset, "utf8")) return valid_utf8(bytes);
    for (std::string_view c : kAsciiCompatible) {
      if (iequals(charset, c)) {
        return std::all_of(bytes.begin(), bytes.end(), [](char b) { return static_cast<unsigned char>(b) < 0x80; });
      }
    }
    return false;
  }

  // Strict UTF-8 as iconv reads it (no overlong forms, surrogates or code points above U+10FFFF);
  // a leading byte order mark counts as not valid, in case the conversion drops it.
  static bool valid_utf8(std::string_view s) {
    if (s.starts_with("\xEF\xBB\xBF")) return false;
    std::size_t i = 0;
    const std::size_t n = s.size();
    auto byte = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    auto cont = [&](std::size_t k) { return k < n && (byte(k) & 0xC0) == 0x80; };
    while (i < n) {
      unsigned char c = byte(i);
      if (c < 0x80) {
        ++i;
      } else if (c >= 0xC2 && c <= 0xDF) {
        if (!cont(i + 1)) return false;
        i += 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(i + 1) || !cont(i + 2)) return false;
        unsigned char c1 = byte(i + 1);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;  // overlong, surrogate
        i += 3;
      } else if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return false;
        unsigned char c1 = byte(i + 1);
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) return false;  // overlong, > U+10FFFF
        i += 4;
      } else {
        return false;
      }
    }
    return true;
  }

  // A named image/PNG, JPEG, GIF or PDF part whose encoded content starts with the signature of
  // that format (checked on the base64 or plain bytes, so nothing is decoded). Such a part can be
  // no report: the attachment readers want archives, XML, JSON or CSV (a ".csv" name is read as
  // CSV whatever its type, so those are still decoded).
  static bool is_signed_media(const MimePart& part, GMimeDataWrapper* content, GMimeStream* src) {
    if (src == nullptr || (part.filename.empty() && !part.attachment)) return false;
    std::string_view name = part.filename;
    if (name.size() >= 4 && iequals(name.substr(name.size() - 4), ".csv")) return false;
    struct Signature {
      std::string_view type, plain, base64;
    };
    static constexpr Signature kSignatures[] = {
        {"image/png", "\x89PNG\r\n\x1a\n", "iVBORw0KGgo"},
        {"image/jpeg", "\xff\xd8\xff", "/9j/"},
        {"image/gif", "GIF8", "R0lGOD"},
        {"application/pdf", "%PDF-", "JVBERi0"},
    };
    const Signature* sig = nullptr;
    for (const Signature& s : kSignatures) {
      if (part.content_type == s.type) sig = &s;
    }
    if (sig == nullptr) return false;
    std::string_view want;
    switch (g_mime_data_wrapper_get_encoding(content)) {
      case GMIME_CONTENT_ENCODING_BASE64: want = sig->base64; break;
      case GMIME_CONTENT_ENCODING_DEFAULT:
      case GMIME_CONTENT_ENCODING_7BIT:
      case GMIME_CONTENT_ENCODING_8BIT:
      case GMIME_CONTENT_ENCODING_BINARY: want = sig->plain; break;
      default: return false;  // quoted-printable, uuencode: decoded as before
    }
    char head[16];
    g_mime_stream_reset(src);
    gssize n = g_mime_stream_read(src, head, want.size());
    g_mime_stream_reset(src);
    return n == static_cast<gssize>(want.size()) && std::string_view(head, want.size()) == want;
  }

  void attachment_too_big(const MimePart& part) {
    ctx_.issue("attachment-limit", 0, 0, "MIME part larger than limits.max_attachment_bytes; its content was skipped",
               part.filename.empty() ? part.content_type : part.filename,
               "raise [limits] max_attachment_bytes if this attachment is legitimate");
  }

  ParseContext& ctx_;
  ParsedMail& mail_;
  const GByteArray* source_;
  bool stopped_ = false;
};

}  // namespace

namespace {
// ASCII lowercase table: an inline lookup instead of a library call per byte (hot in sniffing).
constexpr std::array<unsigned char, 256> kLower = [] {
  std::array<unsigned char, 256> t{};
  for (int i = 0; i < 256; ++i)
    t[static_cast<std::size_t>(i)] = static_cast<unsigned char>(i >= 'A' && i <= 'Z' ? i + 32 : i);
  return t;
}();
inline unsigned char low(char c) {
  return kLower[static_cast<unsigned char>(c)];
}
}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(low(c));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (low(a[i]) != low(b[i])) return false;
  }
  return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  if (hay.size() < needle.size()) return false;
  const std::size_t last = hay.size() - needle.size();
  // A needle with a byte that has no case and is rarely in text (':' in "Report-Type:", '-', '=',
  // digits) is searched by that byte alone with memchr, whatever letter it starts with.
  for (std::size_t j = 0; j < needle.size(); ++j) {
    const char r = needle[j];
    if ((r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == ' ' || static_cast<unsigned char>(r) >= 0x80) {
      continue;
    }
    for (std::size_t from = j; from <= last + j;) {
      const void* p = std::memchr(hay.data() + from, r, last + j + 1 - from);
      if (p == nullptr) return false;
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(p) - hay.data());
      if (iequals(hay.substr(at - j, needle.size()), needle)) return true;
      from = at + 1;
    }
    return false;
  }
  const unsigned char first = low(needle[0]);
  // Candidates by memchr for both cases of the first byte (the loop ran byte by byte before); each
  // case's next position is searched again only once the scan has passed it.
  const char lc = static_cast<char>(first);
  const char uc = first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : lc;
  auto next = [&](char c, std::size_t from) {
    const void* p = std::memchr(hay.data() + from, c, last + 1 - from);
    return p == nullptr ? last + 1 : static_cast<std::size_t>(static_cast<const char*>(p) - hay.data());
  };
  std::size_t next_l = next(lc, 0), next_u = uc == lc ? last + 1 : next(uc, 0);
  for (std::size_t i = 0; i <= last; ++i) {
    if (next_l < i) next_l = next(lc, i);
    if (uc != lc && next_u < i) next_u = next(uc, i);
    i = std::min(next_l, next_u);
    if (i > last) break;
    std::size_t k = 1;
    while (k < needle.size() && low(hay[i + k]) == low(needle[k])) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

HeaderFields parse_header_block(std::string_view text) {
  HeaderFields out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
    std::string_view line = text.substr(pos, (eol == std::string_view::npos ? text.size() : eol) - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = next;
    if (line.empty()) {
      if (out.empty()) continue;  // leading blank lines (e.g. a part body starting with one)
      break;
    }
    if ((line.front() == ' ' || line.front() == '\t') && !out.empty()) {
      out.back().value += ' ';
      out.back().value += trim(line);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view name = line.substr(0, colon);
    if (name.find(' ') != std::string_view::npos && trim(name).find(' ') != std::string_view::npos) continue;
    out.push_back(HeaderField{std::string(trim(name)), std::string(trim(line.substr(colon + 1)))});
  }
  return out;
}

std::string_view header(const HeaderFields& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (iequals(f.name, name)) return f.value;
  }
  return {};
}

std::vector<std::string_view> headers(const HeaderFields& fields, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& f : fields) {
    if (iequals(f.name, name)) out.push_back(f.value);
  }
  return out;
}

std::size_t header_block_length(std::string_view data, std::size_t max) {
  std::size_t pos = 0;
  while (pos < data.size() && pos <= max) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string_view::npos) return data.size() <= max ? data.size() : std::string_view::npos;
    std::string_view line = data.substr(pos, eol - pos);
    if (line.empty() || line == "\r") return eol + 1;
    pos = eol + 1;
  }
  return std::string_view::npos;
}

namespace {

// The top-level fields that GMime's message gives this file (Subject, Message-ID, From) or that
// shape the body (Content-*, MIME-Version); every other one (Received, DKIM-Signature, ARC-*, ...)
// would only become a GMime header object to build and free, which cost more than the MIME walk.
bool gmime_reads(std::string_view name) {
  return iequals(name, "Subject") || iequals(name, "From") || iequals(name, "Message-ID") ||
         iequals(name, "MIME-Version") || (name.size() >= 8 && iequals(name.substr(0, 8), "Content-"));
}

// Writes into `out` the mail with only the top-level fields GMime needs (see gmime_reads; the first
// field is always kept, so the block is never empty), each field byte for byte with its
// continuation lines, then the empty line and the body as they were. Only for a header block that
// GMime reads the same way we do: every line up to the empty line at `hlen` is a continuation
// (never the first) or "name:" with a name of printable ASCII without spaces. Returns false, and
// the mail goes to GMime whole, for anything else.
bool reduce_top_level_fields(std::string_view data, std::size_t hlen, std::string& out) {
  std::size_t pos = 0;
  bool keep = false, first = true;
  std::vector<std::pair<std::size_t, std::size_t>> kept;  // byte ranges of kept lines
  while (pos < hlen) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string_view::npos || eol >= hlen) return false;
    std::string_view line = data.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (eol + 1 != hlen) return false;
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (first) return false;
    } else {
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return false;
      for (char c : line.substr(0, colon)) {
        if (c <= ' ' || c > '~') return false;
      }
      keep = first || gmime_reads(line.substr(0, colon));
      first = false;
    }
    if (keep) {
      if (!kept.empty() && kept.back().second == pos) {
        kept.back().second = eol + 1;
      } else {
        kept.emplace_back(pos, eol + 1);
      }
    }
    pos = eol + 1;
  }
  if (first) return false;
  std::size_t size = data.size() - pos;
  for (auto [b, e] : kept) size += e - b;
  out.clear();
  out.reserve(size);
  for (auto [b, e] : kept) out.append(data.substr(b, e - b));
  out.append(data.substr(pos));
  return true;
}

}  // namespace

ParsedMail parse_mime(std::string_view data, ParseContext& ctx) {
  init_gmime();
  ParsedMail mail;
  // An mbox From_ line may precede the headers of a single saved mail.
  if (data.starts_with("From ")) {
    std::size_t eol = data.find('\n');
    data.remove_prefix(eol == std::string_view::npos ? data.size() : eol + 1);
  }
  if (data.size() > ctx.limits().max_mail_bytes) {
    ctx.issue("mail-size-limit", 0, 0, "mail larger than limits.max_mail_bytes; not parsed", {},
              "raise [limits] max_mail_bytes if this mail is legitimate");
    return mail;
  }
  std::size_t hlen = header_block_length(data, ctx.limits().max_header_bytes);
  if (hlen == std::string_view::npos) {
    if (data.size() > ctx.limits().max_header_bytes) {
      ctx.issue("header-limit", 0, 0, "mail header larger than limits.max_header_bytes; not parsed",
                data.substr(0, 200), "raise [limits] max_header_bytes if this mail is legitimate");
      return mail;
    }
    hlen = data.size();
  }
  mail.header_text.assign(data.substr(0, hlen));
  mail.fields = parse_header_block(mail.header_text);

  // GMime reads the mail where it is (or its copy without the top-level fields nothing here reads
  // from GMime): a byte array that the stream does not own (only read, never written or freed; it
  // outlives every GMime object below).
  std::string reduced;
  std::string_view gmime_input = data;
  if (hlen < data.size() && reduce_top_level_fields(data, hlen, reduced)) gmime_input = reduced;
  if (gmime_input.size() > std::numeric_limits<guint>::max()) {  // only with max_mail_bytes raised past 4 GiB
    ctx.issue("mail-size-limit", 0, 0, "mail larger than 4 GiB (GMime's limit); not parsed", {},
              "split the mailbox or lower [limits] max_mail_bytes");
    return mail;
  }
  GByteArray source{reinterpret_cast<guint8*>(const_cast<char*>(gmime_input.data())),
                    static_cast<guint>(gmime_input.size())};
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_byte_array(&source));
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream.get()), FALSE);
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!msg) {
    ctx.issue("mime-unparseable", 0, 0, "GMime could not parse this mail", data.substr(0, 200));
    return mail;
  }
  mail.parsed = true;
  if (const char* s = g_mime_message_get_subject(msg.get())) mail.subject = s;
  if (const char* id = g_mime_message_get_message_id(msg.get())) mail.message_id = id;
  if (InternetAddressList* from = g_mime_message_get_from(msg.get())) {
    if (internet_address_list_length(from) > 0) {
      InternetAddress* a = internet_address_list_get_address(from, 0);
      if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
        const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
        if (addr != nullptr) mail.from_address = lower(addr);
      }
    }
  }
  if (auto at = mail.from_address.rfind('@'); at != std::string::npos) {
    mail.from_domain = mail.from_address.substr(at + 1);
  }
  auto date = header(mail.fields, "Date");
  if (!date.empty()) mail.date = core::Timestamp::parse_rfc5322(date);
  GMimeObject* body = g_mime_message_get_mime_part(msg.get());
  if (body != nullptr) {
    GMimeContentType* ct = g_mime_object_get_content_type(body);
    if (ct != nullptr) mail.content_type = lower(take(g_mime_content_type_get_mime_type(ct)));
    Walker(ctx, mail, &source).walk(body, 0);
  }
  return mail;
}

}  // namespace klartext::formats::mail
