// Row normalization: the schema mapping bound to header positions once, applied per row.
#include "formats/shadowserver/normalizer.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/embedded.hpp"
#include "core/json_text.hpp"
#include "formats/format.hpp"

namespace klartext::formats::shadowserver {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// True when the knowledge base says this report type is not an amplifier (whatever its identifier).
bool listed_not_amplifier(const knowledge::KnowledgeBase& kb, const ReportSpec& spec) {
  for (const auto& na : kb.not_amplifiers()) {
    if (iequals(na.report, spec.file_name) || iequals(na.report, spec.key)) return true;
  }
  return false;
}

constexpr std::string_view kProvider = "Shadowserver";

std::string number_text(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, static_cast<std::size_t>(r.ptr - buf));
}

// Decimal text that parse_int and std::to_chars turn into itself: optional '-', no leading zeros,
// at most 18 digits (so it fits an int64).
bool is_canonical_int(std::string_view s) {
  const bool negative = !s.empty() && s.front() == '-';
  const std::string_view digits = s.substr(negative ? 1 : 0);
  if (digits.empty() || digits.size() > 18) return false;
  if (digits.front() == '0' && (digits.size() > 1 || negative)) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// What std::to_chars writes for the double that parse_float reads from `s`, worked out on the
// decimal digits: for a plain non-negative decimal of at most 15 significant digits these digits,
// trailing zeros dropped, are the shortest text of its double. to_chars picks the shorter of fixed
// and scientific notation (fixed on a tie); when scientific wins, or `s` is not such a decimal,
// returns nullptr and the caller converts. Otherwise writes at `o` and returns the end.
char* write_plain_decimal(char* o, std::string_view s) {
  const std::size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() || (whole.front() == '0' && whole.size() > 1) || frac.size() > 30) return nullptr;
  if (dot != std::string_view::npos && frac.empty()) return nullptr;
  for (std::string_view part : {whole, frac}) {
    for (char c : part) {
      if (c < '0' || c > '9') return nullptr;
    }
  }
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  std::size_t fixed_len = 0, significant = 0;
  if (whole != "0") {
    significant = whole.size() + frac.size();
    if (frac.empty()) {
      std::string_view w = whole;  // 100 is one significant digit in scientific notation
      while (w.back() == '0') w.remove_suffix(1);
      significant = w.size();
    }
    if (whole.size() + frac.size() > 15) return nullptr;
    fixed_len = whole.size() + (frac.empty() ? 0 : 1 + frac.size());
  } else if (frac.empty()) {
    *o = '0';
    return o + 1;
  } else {
    significant = frac.size() - frac.find_first_not_of('0');
    if (significant > 15) return nullptr;
    fixed_len = 2 + frac.size();
  }
  const std::size_t scientific_len = significant + (significant > 1 ? 1 : 0) + 4;  // d.ddde+XX
  if (fixed_len > scientific_len) return nullptr;
  std::memcpy(o, whole.data(), whole.size());
  o += whole.size();
  if (!frac.empty()) {
    *o++ = '.';
    std::memcpy(o, frac.data(), frac.size());
    o += frac.size();
  }
  return o;
}

// std::tolower in the C locale (the program never sets another), without the call per byte.
void lower_ascii(std::string& s) {
  for (char& c : s) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

char* write_text(char* o, std::string_view s) {
  std::memcpy(o, s.data(), s.size());
  return o + s.size();
}

// Columns Shadowserver uses with one meaning in every report; used only when the report type
// is unknown, so that an unclassified row can still be matched to a customer.
const std::vector<FieldMapping>& common_columns() {
  static const std::vector<FieldMapping> kCommon = [] {
    std::vector<FieldMapping> v;
    auto add = [&](const char* target, const char* column, Conversion c) {
      v.push_back(FieldMapping{target, column, c, std::string(to_string(c)), false});
    };
    add("time.source", "timestamp", Conversion::kAddUtcToTimestamp);
    add("source.ip", "ip", Conversion::kValidateIp);
    add("source.ip", "src_ip", Conversion::kValidateIp);
    add("source.port", "port", Conversion::kConvertInt);
    add("source.port", "src_port", Conversion::kConvertInt);
    add("source.asn", "asn", Conversion::kInvalidateZero);
    add("source.asn", "src_asn", Conversion::kInvalidateZero);
    add("source.reverse_dns", "hostname", Conversion::kNone);
    add("protocol.transport", "protocol", Conversion::kNone);
    return v;
  }();
  return kCommon;
}

}  // namespace

// --- ClassificationMap ---------------------------------------------------------------------------

ClassificationMap ClassificationMap::parse(std::string_view json, std::string_view origin) {
  ClassificationMap m;
  try {
    auto root = nlohmann::json::parse(json);
    for (const auto& e : root.at("mappings")) {
      auto from = e.at("from").get<std::string>();
      auto to = e.at("to").get<std::string>();
      auto slash = to.find('/');
      if (slash == std::string::npos) throw std::runtime_error("'to' is not taxonomy/type: " + to);
      auto tx = to.substr(0, slash), ty = to.substr(slash + 1);
      if (!core::Classification::parse(tx, ty, {})) throw std::runtime_error("'to' is not RSIT: " + to);
      m.map_[from] = {tx, ty};
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(origin) + ": " + e.what());
  }
  return m;
}

std::shared_ptr<const ClassificationMap> ClassificationMap::get(const std::string& data_dir) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const ClassificationMap>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(data_dir);
  if (it != cache.end()) return it->second;
  const std::string path = "shadowserver/classification_map.json";
  auto m = std::make_shared<const ClassificationMap>(parse(core::load_data_file(path, data_dir), path));
  cache.emplace(data_dir, m);
  return m;
}

const std::pair<std::string, std::string>* ClassificationMap::find(std::string_view taxonomy,
                                                                   std::string_view type) const {
  std::string key(taxonomy);
  key += '/';
  key += type;
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

// --- Normalizer ----------------------------------------------------------------------------------

Normalizer::Normalizer(const ReportSpec* spec, std::string report_type, std::vector<std::string> header,
                       std::string header_line, const knowledge::KnowledgeBase& kb, const ClassificationMap& classes)
    : spec_(spec),
      report_type_(std::move(report_type)),
      header_(std::move(header)),
      header_line_(std::move(header_line)),
      kb_(kb),
      classes_(classes) {
  if (spec_ == nullptr) {
    unknown_spec_.key = report_type_;
    unknown_spec_.file_name = report_type_;
    unknown_spec_.fields = common_columns();
  }
  bind();
}

void Normalizer::bind() {
  const ReportSpec& spec = spec_ != nullptr ? *spec_ : unknown_spec_;
  feed_name_ = spec.feed_name;
  feed_code_ = spec.file_name;
  feed_doc_ = spec.url;

  auto column_of = [&](std::string_view name) -> int {
    for (std::size_t i = 0; i < header_.size(); ++i) {
      if (header_[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  std::vector<bool> used(header_.size(), false);
  std::vector<std::string> missing_optional;
  for (const FieldMapping& m : spec.fields) {
    int col = column_of(m.column);
    if (col < 0) {
      if (m.required) {
        usable_ = false;
        file_problems_.push_back({"shadowserver-missing-required-column",
                                  "required column '" + m.column + "' (" + m.target + ") is not in the header",
                                  header_line_});
      } else if (spec_ != nullptr) {
        bool seen = false;
        for (const auto& x : missing_optional) seen = seen || x == m.column;
        if (!seen) missing_optional.push_back(m.column);
      }
      continue;
    }
    used[static_cast<std::size_t>(col)] = true;
    if (m.target.empty()) continue;  // the schema ignores this column
    if (m.conversion == Conversion::kUnknown) {
      file_problems_.push_back({"shadowserver-unknown-conversion",
                                "schema names conversion '" + m.conversion_name + "' for column '" + m.column +
                                    "', which this version does not know; the value is kept as extra." + m.column,
                                {}});
    }
    Binding b{&m,
              static_cast<std::size_t>(col),
              Target::kGeneric,
              core::intern_key(m.target),
              core::intern_key("extra." + m.column),
              m.required};
    if (m.conversion == Conversion::kUnknown) b.key = b.extra_key;
    if (m.target == "source.ip") b.target = Target::kSourceIp;
    if (m.target == "destination.ip") b.target = Target::kDestinationIp;
    if (m.target == "source.port") b.target = Target::kSourcePort;
    if (m.target == "destination.port") b.target = Target::kDestinationPort;
    if (m.target == "time.source") b.target = Target::kTimeSource;
    if (m.target == "severity") b.target = Target::kSeverity;
    if (m.target == "classification.taxonomy") b.target = Target::kTaxonomy;
    if (m.target == "classification.type") b.target = Target::kType;
    if (m.target == "classification.identifier") b.target = Target::kIdentifier;
    if (m.target == "protocol.transport" || m.target == "protocol.application") b.target = Target::kLowercase;
    if (m.conversion == Conversion::kConvertHttpHostAndUrl || m.conversion == Conversion::kCategoryOrDetail) {
      row_context_ = true;
    }
    bindings_.push_back(b);
  }
  if (!missing_optional.empty()) {
    std::string list;
    for (const auto& c : missing_optional) list += (list.empty() ? "" : ", ") + c;
    file_problems_.push_back({"shadowserver-missing-column",
                              "optional column(s) of report type '" + spec.key + "' not in the header: " + list,
                              header_line_});
  }
  std::size_t refused = 0;
  std::string refused_example;
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (used[i]) continue;
    if (auto key = core::try_intern_key("extra." + header_[i])) {
      leftovers_.push_back({i, *key});
    } else if (refused++ == 0) {
      refused_example = header_[i].substr(0, 64);
    }
  }
  if (refused > 0) {
    file_problems_.push_back({"shadowserver-column-key-limit",
                              std::to_string(refused) + " column name(s) over the field-name limit (" +
                                  std::to_string(core::kMaxInternedKeyBytes) + " bytes, " +
                                  std::to_string(core::kMaxInternedKeys) + " distinct names), e.g. '" +
                                  refused_example + "': their values are only in raw",
                              header_line_});
  }
  col_http_host_ = column_of("http_host");
  col_cc_dns_ = column_of("cc_dns");
  col_url_ = column_of("url");
  col_http_url_ = column_of("http_url");
  col_application_ = column_of("application");
  col_detail_ = column_of("detail");

  for (const auto& [k, v] : spec.constants) {
    if (k == "classification.taxonomy") {
      const_taxonomy_ = v;
      has_const_taxonomy_ = true;
    } else if (k == "classification.type") {
      const_type_ = v;
      has_const_type_ = true;
    } else if (k == "classification.identifier") {
      const_identifier_ = v;
      has_const_identifier_ = true;
    } else {
      std::string value = v;
      if (k == "protocol.transport" || k == "protocol.application") {
        lower_ascii(value);
      }
      constants_.emplace_back(core::intern_key(k), std::move(value));
    }
  }
  build_json_plan();
}

void Normalizer::add_json_members(std::vector<std::pair<std::string, std::string>> members) {
  json_extra_members_ = std::move(members);
  json_plan_.clear();
  json_text_.clear();
  json_resolved_ = nullptr;
  json_fixed_bytes_ = json_values_ = json_column_uses_ = json_wide_values_ = 0;
  build_json_plan();
}

void Normalizer::build_json_plan() {
  // Only files whose events differ per row in column values alone: one classification for the file.
  if (!usable_ || !has_const_taxonomy_ || !has_const_type_ || !has_const_identifier_) return;
  for (const Binding& b : bindings_) {
    if (b.mapping->conversion == Conversion::kUnknown) return;  // its target and key disagree
  }
  const Resolved& r = resolve(const_taxonomy_, const_type_, const_identifier_);
  if (!r.mapped) return;  // the general path reports it
  core::Event file_fields;
  set_file_fields(file_fields, r);
  if (!json_extra_members_.empty()) {
    if (!file_fields.has("feed.provider")) return;  // the wrapping sink would add one
    for (const auto& [k, v] : json_extra_members_) {
      if (file_fields.has(k)) return;  // the wrapper's value would replace it: general path
      file_fields.set(k, v);
    }
  }

  // Every member the event can have, by key; the plan needs them distinct (the general path lets a
  // later value replace an earlier one of the same key) and apart from the two computed members.
  enum class From : std::uint8_t { kBinding, kLeftover, kFileField, kId, kRaw };
  struct Member {
    std::string_view key;
    From from;
    std::size_t index;  // into bindings_ or leftovers_
    const core::Field* field;
  };
  auto classification_target = [](const Binding& b) {
    return b.target == Target::kTaxonomy || b.target == Target::kType || b.target == Target::kIdentifier;
  };
  std::vector<Member> members;
  for (std::size_t i = 0; i < bindings_.size(); ++i) {
    if (!classification_target(bindings_[i])) members.push_back({bindings_[i].key, From::kBinding, i, nullptr});
  }
  for (std::size_t i = 0; i < leftovers_.size(); ++i)
    members.push_back({leftovers_[i].key, From::kLeftover, i, nullptr});
  for (const core::Field& f : file_fields) members.push_back({f.key, From::kFileField, 0, &f});
  members.push_back({"event.id", From::kId, 0, nullptr});
  members.push_back({"raw", From::kRaw, 0, nullptr});
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) { return a.key < b.key; });
  for (std::size_t i = 1; i < members.size(); ++i) {
    if (members[i].key == members[i - 1].key) return;
  }

  auto value_step = [&](const Binding& b) {
    JsonStep step{JsonStep::Kind::kConvert};
    step.column = static_cast<std::uint32_t>(b.column);
    step.binding = static_cast<std::uint32_t>(&b - bindings_.data());
    const bool address_target =
        b.target == Target::kSourceIp || b.target == Target::kDestinationIp || b.target == Target::kGeneric;
    if (address_target && b.mapping->conversion == Conversion::kValidateIp) step.kind = JsonStep::Kind::kAddress;
    if (b.target == Target::kTimeSource && b.mapping->conversion == Conversion::kAddUtcToTimestamp) {
      step.kind = JsonStep::Kind::kTime;
    }
    if (b.target != Target::kGeneric) return step;
    switch (b.mapping->conversion) {
      case Conversion::kNone: step.kind = JsonStep::Kind::kString; break;
      case Conversion::kValidateToNone: step.kind = JsonStep::Kind::kNotNone; break;
      case Conversion::kConvertInt: step.kind = JsonStep::Kind::kInteger; break;
      case Conversion::kInvalidateZero:
        step.kind = JsonStep::Kind::kInteger;
        step.absent_zero = true;
        break;
      case Conversion::kConvertFloat: step.kind = JsonStep::Kind::kFloat; break;
      default: break;
    }
    return step;
  };
  // Each member starts with ','; the first one's becomes the '{'. Runs of constant members merge.
  for (const Member& m : members) {
    const bool merge =
        m.from == From::kFileField && !json_plan_.empty() && json_plan_.back().kind == JsonStep::Kind::kText;
    if (!merge) {
      JsonStep step{JsonStep::Kind::kText};
      if (m.from == From::kBinding) step = value_step(bindings_[m.index]);
      if (m.from == From::kLeftover) {
        step.kind = JsonStep::Kind::kLeftover;
        step.column = static_cast<std::uint32_t>(leftovers_[m.index].column);
      }
      if (m.from == From::kId) step.kind = JsonStep::Kind::kId;
      if (m.from == From::kRaw) step.kind = JsonStep::Kind::kRaw;
      step.text = static_cast<std::uint32_t>(json_text_.size());
      json_plan_.push_back(step);
    }
    json_text_.append(",\"").append(m.key).append("\":");
    if (m.from == From::kFileField) core::append_json_value(json_text_, *m.field);
    json_plan_.back().size = static_cast<std::uint32_t>(json_text_.size() - json_plan_.back().text);
  }
  // Evaluated for their problems only (the classification is the file's): no member, no text.
  for (const Binding& b : bindings_) {
    if (classification_target(b)) json_plan_.push_back(value_step(b));
  }
  json_text_.append(kKeyBlock, '\0');
  json_fixed_bytes_ = json_text_.size();
  // For the output bound (see normalize_json): value steps, the most that read one column, and those
  // whose value comes from other columns.
  std::vector<std::size_t> uses(header_.size(), 0);
  for (const JsonStep& step : json_plan_) {
    if (step.kind == JsonStep::Kind::kText || step.kind == JsonStep::Kind::kId || step.kind == JsonStep::Kind::kRaw) {
      continue;
    }
    ++json_values_;
    json_column_uses_ = std::max(json_column_uses_, ++uses[step.column]);
    if (step.kind == JsonStep::Kind::kConvert) {
      const Conversion c = bindings_[step.binding].mapping->conversion;
      json_wide_values_ += c == Conversion::kConvertHttpHostAndUrl || c == Conversion::kCategoryOrDetail ? 1 : 0;
    }
  }
  json_resolved_ = &r;

  // raw is the header line, '\n' and the row: that start is hashed and base64-encoded once.
  std::string head = header_line_ + '\n';
  json_id_prefix_.start(file_fields.get("feed.provider").value_or(""), file_fields.get("feed.name").value_or(""));
  json_id_prefix_.add_raw(head);
  const std::size_t aligned = head.size() / 3 * 3;
  json_raw_head_b64_.resize(core::base64_size(aligned));
  core::write_base64(json_raw_head_b64_.data(), std::string_view(head).substr(0, aligned));
  json_raw_head_rest_ = head.substr(aligned);
}

void Normalizer::problem(std::string code, std::string reason, std::string_view excerpt) {
  problems_.push_back({std::move(code), std::move(reason), std::string(excerpt)});
}

const Normalizer::Resolved& Normalizer::resolve(std::string_view taxonomy, std::string_view type,
                                                std::string_view identifier) {
  const bool constant = has_const_taxonomy_ && has_const_type_ && has_const_identifier_;
  if (constant && fixed_ != nullptr) return *fixed_;  // the usual case: one label for the whole file
  resolve_key_.assign(taxonomy);
  resolve_key_ += '/';
  resolve_key_ += type;
  resolve_key_ += '/';
  resolve_key_ += identifier;
  auto it = resolved_.find(resolve_key_);
  if (it != resolved_.end()) {
    if (constant) fixed_ = &it->second;
    return it->second;
  }

  Resolved r;
  if (!taxonomy.empty() || !type.empty() || !identifier.empty()) r.feed_label = resolve_key_;
  std::optional<core::Classification> c;
  if (spec_ != nullptr && !type.empty()) {
    c = core::Classification::parse(taxonomy, type, identifier);
    if (!c) {
      if (const auto* to = classes_.find(taxonomy, type)) {
        c = core::Classification::parse(to->first, to->second, identifier);
      }
    }
  }
  if (!c) {
    r.mapped = spec_ == nullptr || (taxonomy.empty() && type.empty());
    c = core::Classification::undetermined(std::string(identifier));
  }
  // Amplifiers: the knowledge base decides, by report type first, then by identifier. The report
  // type comes first because identifiers are shared across transports: open-ldap is both
  // scan_ldap_udp (CLDAP amplifier) and scan_ldap_tcp, which the knowledge base lists under
  // not_amplifiers so that its identifier does not make it one.
  if (spec_ != nullptr) {
    const knowledge::Amplifier* amp = kb_.find_amplifier(spec_->file_name);
    if (amp == nullptr) amp = kb_.find_amplifier(spec_->key);
    if (amp == nullptr && !identifier.empty() && !listed_not_amplifier(kb_, *spec_)) {
      amp = kb_.find_amplifier(identifier);
    }
    if (amp != nullptr) {
      r.amplifier = amp;
      c = core::Classification::of(core::IncidentType::kDdosAmplifier,
                                   identifier.empty() ? amp->identifier : std::string(identifier));
      if (amp->baf_typical > 0) r.baf_typical = number_text(amp->baf_typical);
      if (amp->baf_max > 0) r.baf_max = number_text(amp->baf_max);
      r.mapped = true;
    }
  }
  r.classification = std::move(*c);
  const Resolved& out = resolved_.emplace(resolve_key_, std::move(r)).first->second;
  if (constant) fixed_ = &out;
  return out;
}

RowContext Normalizer::row_context(const std::vector<std::string_view>& fields) const {
  RowContext ctx;
  if (row_context_) {
    auto get = [&](int col) -> std::optional<std::string_view> {
      if (col < 0) return std::nullopt;
      return fields[static_cast<std::size_t>(col)];
    };
    ctx.http_host = get(col_http_host_);
    ctx.cc_dns = get(col_cc_dns_);
    ctx.url = get(col_url_);
    ctx.http_url = get(col_http_url_);
    ctx.application = get(col_application_);
    ctx.detail = get(col_detail_);
  }
  return ctx;
}

void Normalizer::set_file_fields(core::Event& event, const Resolved& r) const {
  // Interned once: the event finds an interned name by address, a literal by comparing its bytes.
  static const struct Keys {
    std::string_view classification = key("feed.classification"), baf_typical = key("extra.amplifier.baf_typical"),
                     baf_max = key("extra.amplifier.baf_max"), port = key("extra.amplifier.port"),
                     transport = key("extra.amplifier.transport"), provider = key("feed.provider"),
                     name = key("feed.name"), code = key("feed.code"), documentation = key("feed.documentation");
    static std::string_view key(std::string_view literal) { return core::try_intern_key(literal).value_or(literal); }
  } kKeys;
  for (const auto& [k, v] : constants_) event.set(k, v);
  event.set_classification(r.classification);
  if (!r.feed_label.empty()) event.set(kKeys.classification, r.feed_label);
  if (r.amplifier != nullptr) {
    if (!r.baf_typical.empty()) event.set(kKeys.baf_typical, r.baf_typical, core::JsonKind::kNumber);
    if (!r.baf_max.empty()) event.set(kKeys.baf_max, r.baf_max, core::JsonKind::kNumber);
    if (r.amplifier->port != 0) event.set_int(kKeys.port, r.amplifier->port);
    if (!r.amplifier->transport.empty()) event.set(kKeys.transport, r.amplifier->transport);
  }
  event.set(kKeys.provider, kProvider);
  if (!feed_name_.empty()) event.set(kKeys.name, feed_name_);
  if (!feed_code_.empty()) event.set(kKeys.code, feed_code_);
  if (!feed_doc_.empty()) event.set(kKeys.documentation, feed_doc_);
}

bool Normalizer::normalize(const std::vector<std::string_view>& fields, std::string_view row_bytes,
                           core::Event& event) {
  problems_.clear();
  event.clear();
  if (!usable_) {
    problem("shadowserver-missing-required-column", "row skipped: a required column is missing from the header",
            row_bytes);
    return false;
  }
  const RowContext ctx = row_context(fields);
  std::string_view row_taxonomy, row_type, row_identifier;
  bool have_time = false;
  for (const Binding& b : bindings_) {
    std::string_view text = fields[b.column];
    Value v = convert(b.mapping->conversion, text, ctx, scratch_);
    if (v.kind == ValueKind::kAbsent) continue;
    if (v.kind == ValueKind::kKeep) {
      event.set(b.extra_key, v.text);
      continue;
    }
    if (v.kind == ValueKind::kInvalid) {
      const char* code = "shadowserver-bad-value";
      if (b.target == Target::kSourceIp || b.target == Target::kDestinationIp) code = "shadowserver-bad-ip";
      if (b.target == Target::kTimeSource) code = "shadowserver-bad-timestamp";
      if (b.target == Target::kSourcePort || b.target == Target::kDestinationPort) code = "shadowserver-bad-port";
      std::string reason = "column '" + b.mapping->column + "' (" + b.mapping->target + ", " +
                           std::string(to_string(b.mapping->conversion)) + ") does not convert";
      if (b.required) {
        problem(code, reason + "; row skipped", text);
        return false;
      }
      problem(code, reason + "; kept as " + std::string(b.extra_key), text);
      event.set(b.extra_key, text);
      continue;
    }
    switch (b.target) {
      case Target::kSourceIp:
      case Target::kDestinationIp:
        if (v.kind != ValueKind::kIp) break;
        b.target == Target::kSourceIp ? event.set_source_ip(v.ip) : event.set_destination_ip(v.ip);
        continue;
      case Target::kSourcePort:
      case Target::kDestinationPort:
        if (v.kind != ValueKind::kInt) break;
        if (v.i < 0 || v.i > 65535) {
          problem("shadowserver-bad-port", "column '" + b.mapping->column + "' is not a port number", text);
          if (b.required) return false;
          event.set(b.extra_key, text);
          continue;
        }
        b.target == Target::kSourcePort ? event.set_source_port(static_cast<std::uint16_t>(v.i))
                                        : event.set_destination_port(static_cast<std::uint16_t>(v.i));
        continue;
      case Target::kTimeSource:
        if (v.kind != ValueKind::kTime) break;
        event.set_time_source(v.time);
        have_time = true;
        continue;
      case Target::kSeverity: {
        auto s = v.kind == ValueKind::kString ? core::parse_severity(v.text) : std::nullopt;
        if (s) {
          event.set_severity(*s);
        } else {
          problem("shadowserver-bad-value", "column '" + b.mapping->column + "' is not a severity level", text);
          event.set(b.extra_key, text);
        }
        continue;
      }
      case Target::kTaxonomy: row_taxonomy = v.text; continue;
      case Target::kType: row_type = v.text; continue;
      case Target::kIdentifier: row_identifier = v.text; continue;
      case Target::kLowercase:
        if (v.kind != ValueKind::kString) break;
        scratch_.assign(v.text);
        lower_ascii(scratch_);
        event.set(b.key, scratch_);
        continue;
      case Target::kGeneric: break;
    }
    switch (v.kind) {
      case ValueKind::kInt: event.set_int(b.key, v.i); break;
      case ValueKind::kFloat: {
        // As normalize_json writes it: a plain decimal is already the text std::to_chars would give.
        char buf[64];
        const char* end = b.mapping->conversion == Conversion::kConvertFloat && text.size() <= 32
                              ? write_plain_decimal(buf, text)
                              : nullptr;
        if (end != nullptr) {
          event.set(b.key, std::string_view(buf, static_cast<std::size_t>(end - buf)), core::JsonKind::kNumber);
        } else {
          event.set_float(b.key, v.f);
        }
        break;
      }
      case ValueKind::kBool: event.set_bool(b.key, v.b); break;
      case ValueKind::kIp:
        scratch_.clear();
        v.ip.append_to(scratch_);
        event.set(b.key, scratch_);
        break;
      case ValueKind::kTime:
        scratch_.clear();
        v.time.append_iso(scratch_);
        event.set(b.key, scratch_);
        break;
      default: event.set(b.key, v.text); break;
    }
  }
  if (!have_time) {
    problem("shadowserver-missing-timestamp", "row has no timestamp; row skipped", row_bytes);
    return false;
  }
  for (const Leftover& l : leftovers_) {
    std::string_view text = fields[l.column];
    if (!text.empty()) event.set(l.key, text);
  }
  // The scan_exchange helpers return string literals; other row labels are views into the row.
  const Resolved& r = resolve(has_const_taxonomy_ ? std::string_view(const_taxonomy_) : row_taxonomy,
                              has_const_type_ ? std::string_view(const_type_) : row_type,
                              has_const_identifier_ ? std::string_view(const_identifier_) : row_identifier);
  if (!r.mapped && !warned_unmapped_) {
    warned_unmapped_ = true;
    problem("shadowserver-unmapped-classification",
            "feed classification '" + r.feed_label +
                "' is not RSIT and has no entry in shadowserver/classification_map.json; events are "
                "other/undetermined");
  }
  set_file_fields(event, r);

  event.raw.reserve(header_line_.size() + 1 + row_bytes.size());
  event.raw.assign(header_line_);
  event.raw.push_back('\n');
  event.raw.append(row_bytes);
  return true;
}

char* Normalizer::write_converted(char* o, const Binding& b, std::string_view text, const RowContext& ctx,
                                  bool& have_time) {
  Value v = convert(b.mapping->conversion, text, ctx, scratch_);
  switch (v.kind) {
    case ValueKind::kAbsent: return o;
    case ValueKind::kKeep:
    case ValueKind::kInvalid: return nullptr;
    default: break;
  }
  // As normalize() sets the field, rendered as Event::append_json renders it.
  switch (b.target) {
    case Target::kSourceIp:
    case Target::kDestinationIp:
    case Target::kGeneric:
      if (v.kind == ValueKind::kIp) {
        json_tmp_.clear();
        v.ip.append_to(json_tmp_);
        return core::write_json_string(o, json_tmp_);
      }
      break;
    case Target::kSourcePort:
    case Target::kDestinationPort:
      if (v.kind != ValueKind::kInt) break;
      if (v.i < 0 || v.i > 65535) return nullptr;
      return std::to_chars(o, o + 24, v.i).ptr;
    case Target::kTimeSource:
      if (v.kind != ValueKind::kTime) break;
      have_time = true;
      json_tmp_.clear();
      v.time.append_iso(json_tmp_);
      return core::write_json_string(o, json_tmp_);
    case Target::kSeverity: {
      auto s = v.kind == ValueKind::kString ? core::parse_severity(v.text) : std::nullopt;
      if (!s) return nullptr;
      return core::write_json_string(o, core::to_string(*s));
    }
    case Target::kTaxonomy:
    case Target::kType:
    case Target::kIdentifier: return o;  // the file's classification is used
    case Target::kLowercase:
      if (v.kind != ValueKind::kString) break;
      json_tmp_.assign(v.text);
      lower_ascii(json_tmp_);
      return core::write_json_string(o, json_tmp_);
  }
  switch (v.kind) {
    case ValueKind::kInt: return std::to_chars(o, o + 24, v.i).ptr;
    case ValueKind::kFloat:
      if (!std::isfinite(v.f)) return write_text(o, "null");
      return std::to_chars(o, o + 32, v.f).ptr;
    case ValueKind::kBool: return write_text(o, v.b ? "true" : "false");
    case ValueKind::kTime:
      json_tmp_.clear();
      v.time.append_iso(json_tmp_);
      return core::write_json_string(o, json_tmp_);
    default: return core::write_json_string(o, v.text);
  }
}

bool Normalizer::normalize_json(const std::vector<std::string_view>& fields, std::string_view row_bytes,
                                std::string& out) {
  if (json_resolved_ == nullptr) return false;
  // Room for every step. A value is at most 4/3 of its column (base64) plus 64 bytes (times,
  // addresses, numbers), escaped at most six-fold: 8 bytes a column byte plus json_string_bound(64);
  // a column read by several steps counts that often. A value from other columns (a URL from host
  // and path, detail for category) is at most twice the row. kKeyBlock for each fixed-size copy.
  const std::size_t row = row_bytes.size();
  const std::size_t bound = 2 + json_fixed_bytes_ + 34 + json_raw_head_b64_.size() + 8 + core::base64_size(row) +
                            kKeyBlock * json_plan_.size() + json_values_ * core::json_string_bound(64) +
                            json_column_uses_ * 8 * row + json_wide_values_ * core::json_string_bound(2 * row + 64);
  if (json_buf_.size() < bound) json_buf_.resize(std::max(bound, 2 * json_buf_.size()));
  const RowContext ctx = row_context(fields);
  const char* const texts = json_text_.data();
  char* const start = json_buf_.data();
  char* o = start;
  bool have_time = false;
  for (const JsonStep& step : json_plan_) {
    // The step's text; a value step keeps it only when the value is there.
    char* const value = o + step.size;
    if (step.size <= kKeyBlock) {
      std::memcpy(o, texts + step.text, kKeyBlock);
    } else {
      std::memcpy(o, texts + step.text, step.size);
    }
    char* end = value;
    switch (step.kind) {
      case JsonStep::Kind::kText: break;
      case JsonStep::Kind::kString:
      case JsonStep::Kind::kLeftover: {
        std::string_view text = fields[step.column];
        if (!text.empty()) end = core::write_json_string(value, text);
        break;
      }
      case JsonStep::Kind::kNotNone: {
        std::string_view text = fields[step.column];
        if (!text.empty() && text != "0" && text != "unknown") end = core::write_json_string(value, text);
        break;
      }
      case JsonStep::Kind::kInteger: {
        std::string_view text = fields[step.column];
        if (is_canonical_int(text)) {
          // Already what parse + format would write.
          if (!(step.absent_zero && text == "0")) end = write_text(value, text);
          break;
        }
        end = write_converted(value, bindings_[step.binding], text, ctx, have_time);
        break;
      }
      case JsonStep::Kind::kAddress: {
        // IpAddress::parse takes only the canonical dotted quad for IPv4, which is also what it
        // writes back: such text is copied.
        std::string_view text = fields[step.column];
        std::optional<core::IpAddress> ip;
        if (text != "0.0.0.0" && (ip = core::IpAddress::parse(text)) && ip->is_v4()) {
          end = core::write_json_string(value, text);
          break;
        }
        end = write_converted(value, bindings_[step.binding], text, ctx, have_time);
        break;
      }
      case JsonStep::Kind::kTime: {
        // "YYYY-MM-DD HH:MM:SS" that Timestamp::parse accepts (a valid date and time, seconds up to
        // 59, no zone) is written back as "YYYY-MM-DDTHH:MM:SS+00:00": rearranged, not formatted.
        std::string_view text = fields[step.column];
        if (text.size() == 19 && text[13] == ':' && text[16] == ':' && text[17] <= '5' &&
            core::Timestamp::parse(text)) {
          *end++ = '"';
          end = write_text(end, text.substr(0, 10));
          *end++ = 'T';
          end = write_text(end, text.substr(11, 8));
          end = write_text(end, "+00:00\"");
          have_time = true;
          break;
        }
        end = write_converted(value, bindings_[step.binding], text, ctx, have_time);
        break;
      }
      case JsonStep::Kind::kFloat: {
        std::string_view text = fields[step.column];
        end = write_plain_decimal(value, text);
        if (end == nullptr) end = write_converted(value, bindings_[step.binding], text, ctx, have_time);
        break;
      }
      case JsonStep::Kind::kConvert:
        end = write_converted(value, bindings_[step.binding], fields[step.column], ctx, have_time);
        break;
      case JsonStep::Kind::kId:
        json_id_ = json_id_prefix_;
        json_id_.add_raw(row_bytes);
        *end++ = '"';
        json_id_.finish(end);
        end += 32;
        *end++ = '"';
        break;
      case JsonStep::Kind::kRaw: {
        *end++ = '"';
        end = write_text(end, json_raw_head_b64_);
        // The head's last 0-2 bytes and the row's first bytes make one 3-byte group.
        std::size_t take = 0;
        if (!json_raw_head_rest_.empty()) {
          char group[3];
          const std::size_t rest = json_raw_head_rest_.size();
          take = std::min(3 - rest, row_bytes.size());
          std::memcpy(group, json_raw_head_rest_.data(), rest);
          std::memcpy(group + rest, row_bytes.data(), take);
          end = core::write_base64(end, std::string_view(group, rest + take));
        }
        end = core::write_base64(end, row_bytes.substr(take));
        *end++ = '"';
        break;
      }
    }
    if (end == nullptr) return false;
    // An absent value drops its key (a constant run has no value and is kept).
    o = end != value || step.kind == JsonStep::Kind::kText ? end : o;
  }
  if (!have_time) return false;
  *start = '{';  // the first member's ','
  *o++ = '}';
  out.append(start, static_cast<std::size_t>(o - start));
  return true;
}

}  // namespace klartext::formats::shadowserver
