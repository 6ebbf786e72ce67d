// The codec interface of a probe: builds the request and judges/decodes the answer datagrams.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::probe {

// Parameters of one probe variant, from data/probes/catalogue.yaml (all values as text).
using Params = std::map<std::string, std::string, std::less<>>;

std::string param_str(const Params& p, std::string_view key, std::string_view fallback);
std::int64_t param_int(const Params& p, std::string_view key, std::int64_t fallback);

struct Detail {
  std::string key;
  std::string value;  // JSON number text when `number`, else plain text
  bool number = false;
};

// What the answer datagrams say.
struct Decoded {
  bool valid = false;  // at least one datagram is a genuine answer of this protocol to our request
  bool open = false;   // it answered the abusable request itself (not an error, refusal or empty list)
  std::size_t valid_datagrams = 0;
  std::vector<Detail> details;

  void add(std::string key, std::string value) { details.push_back({std::move(key), std::move(value), false}); }
  void add_num(std::string key, double v);
  const Detail* find(std::string_view key) const;
};

class Codec {
 public:
  virtual ~Codec() = default;
  // The request payload; `txid` seeds every transaction id / sequence / message id field.
  virtual std::string build(const Params& p, std::uint32_t txid) const = 0;
  // Judges the datagrams received from the target port in answer to `request` (in arrival order).
  virtual Decoded decode(const Params& p, std::string_view request,
                         const std::vector<std::string>& datagrams) const = 0;
};

// Codecs by the name the catalogue's `codec:` field uses; nullptr if unknown.
const Codec* find_codec(std::string_view name);
std::vector<std::string> codec_names();

}  // namespace klartext::probe
