// Tests for the pointer-level JSON string and base64 writers against simple reference encoders.
#include "core/json_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace klartext::core {
namespace {

std::string reference_base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(base64_size(bytes.size()) + 16, '\0');
  char* end = write_base64(out.data(), bytes);
  EXPECT_EQ(static_cast<std::size_t>(end - out.data()), base64_size(bytes.size()));
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}

std::string json(std::string_view s) {
  std::string out(json_string_bound(s.size()), '\0');
  out.resize(static_cast<std::size_t>(write_json_string(out.data(), s) - out.data()));
  return out;
}

TEST(JsonText, Base64MatchesTheReferenceAtEveryLength) {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n < 300; ++n) {
    for (int round = 0; round < 4; ++round) {
      std::string bytes(n, '\0');
      for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
      ASSERT_EQ(base64(bytes), reference_base64(bytes)) << "length " << n;
    }
  }
  // Every 6-bit index in every output position.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (int shift = 0; shift < 3; ++shift) EXPECT_EQ(base64(all.substr(shift)), reference_base64(all.substr(shift)));
}

TEST(JsonText, JsonStringEscapesAndKeepsPlainRuns) {
  EXPECT_EQ(json(""), "\"\"");
  EXPECT_EQ(json("plain text that is longer than eight bytes"), "\"plain text that is longer than eight bytes\"");
  EXPECT_EQ(json("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(json("0123456789abcdef\"0123456789abcdef"), "\"0123456789abcdef\\\"0123456789abcdef\"");
  EXPECT_EQ(json("Stra\xc3\x9f"
                 "e and \xff bad"),
            "\"Stra\xc3\x9f"
            "e and \xEF\xBF\xBD bad\"");
}

}  // namespace
}  // namespace klartext::core
