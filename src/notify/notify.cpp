// Notification run: due cases -> LetterInput -> Letter -> MIME -> outbox Maildir -> store records.
#include "notify/notify.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cases/case_book.hpp"
#include "delivery/maildir.hpp"
#include "delivery/mime.hpp"
#include "knowledge/knowledge.hpp"
#include "letters/from_events.hpp"
#include "letters/renderer.hpp"
#include "store/json_delta.hpp"
#include "store/store.hpp"

namespace klartext::notify {
namespace {

letters::Due case_due(const cases::Case& c, const letters::ResendPolicy& policy, core::Timestamp now) {
  std::optional<letters::SentBefore> last;
  if (c.notifications > 0 && c.last_notified) {
    last = letters::SentBefore{*c.last_notified, static_cast<std::uint64_t>(c.notified_event_count)};
  }
  letters::Due d = letters::due(policy, c.severity, static_cast<std::uint64_t>(c.event_count), last, now);
  // A state the last letter did not describe (e.g. escalated since) is a change too.
  if (d == letters::Due::kNotDue && last && c.notified_state && *c.notified_state != c.state) {
    d = letters::Due::kChanged;
  }
  return d;
}

// The letter's view of one stored case: report fields and evidence from its events, totals from the case.
// Our latest own measurement of the case's service, when it confirmed an amplifier (klartext verify).
std::optional<letters::ProbeMeasurement> confirmed_measurement(store::Store& st, std::int64_t case_id) {
  auto r = st.latest_probe_result(case_id);
  if (!r || r->verdict != "amplifier") return std::nullopt;
  auto j = nlohmann::json::parse(r->details_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  letters::ProbeMeasurement m;
  m.at = r->time;
  m.probe = j.value("probe", std::string());
  const auto sent = j.value("requests_sent", std::uint64_t{1});
  m.request_bytes = j.value("request_bytes", std::uint64_t{0}) * (sent > 0 ? sent : 1);
  m.response_bytes = j.value("response_bytes", std::uint64_t{0});
  m.response_packets = j.value("response_packets", std::uint32_t{0});
  if (m.response_bytes == 0) return std::nullopt;
  return m;
}

// The members of a stored event that a letter reads (case_from_events, evidence_kind, reported_as),
// taken from the JSON core::Event::append_json wrote without building its whole tree: the evidence
// row, times, ports, feed names. Values this reader does not take as they are (escapes, other types,
// a bad address or time) send the event through core::Event::from_json, which decides as before.
std::optional<core::Event> letter_event(std::string_view json) {
  thread_local std::vector<std::string_view> members;
  if (!store::detail::split_members(json, members)) return std::nullopt;
  core::Event e;
  std::string_view taxonomy, type, identifier;
  // A plain JSON string without escapes, else nullopt.
  auto plain = [](std::string_view v) -> std::optional<std::string_view> {
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::nullopt;
    v = v.substr(1, v.size() - 2);
    if (v.find('\\') != std::string_view::npos) return std::nullopt;
    return v;
  };
  for (std::string_view m : members) {
    const std::size_t key_end = m.find('"', 1);
    if (key_end == std::string_view::npos || key_end + 1 >= m.size() || m[key_end + 1] != ':') return std::nullopt;
    const std::string_view k = m.substr(1, key_end - 1);
    const std::string_view v = m.substr(key_end + 2);
    if (k.find('\\') != std::string_view::npos) return std::nullopt;
    if (k == "raw") {
      auto text = plain(v);
      if (!text) return std::nullopt;
      e.raw = core::base64_decode(*text);
    } else if (k == "classification.taxonomy" || k == "classification.type" || k == "classification.identifier") {
      auto text = plain(v);
      if (!text) return std::nullopt;
      (k == "classification.taxonomy" ? taxonomy : k == "classification.type" ? type : identifier) = *text;
    } else if (k == "source.ip" || k == "destination.ip") {
      auto text = plain(v);
      auto ip = text ? core::IpAddress::parse(*text) : std::nullopt;
      if (!ip) return std::nullopt;
      k == "source.ip" ? e.set_source_ip(*ip) : e.set_destination_ip(*ip);
    } else if (k == "source.port" || k == "destination.port") {
      std::int64_t p = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
      if (ec != std::errc() || end != v.data() + v.size() || v.front() == '+' || p < 0 || p > 65535) {
        return std::nullopt;
      }
      k == "source.port" ? e.set_source_port(static_cast<std::uint16_t>(p))
                         : e.set_destination_port(static_cast<std::uint16_t>(p));
    } else if (k == "time.source" || k == "time.observation") {
      auto text = plain(v);
      auto t = text ? core::Timestamp::parse(*text) : std::nullopt;
      if (!t) return std::nullopt;
      k == "time.source" ? e.set_time_source(*t) : e.set_time_observation(*t);
    } else if (k == "severity") {
      auto text = plain(v);
      if (!text) return std::nullopt;
      e.set_severity(core::parse_severity(*text).value_or(core::Severity::kUnknown));
    } else if (k == "raw.format" || k == "feed.provider" || k == "feed.code" || k == "feed.name" ||
               k == "feed.documentation" || k == "malware.name" || k == "protocol.transport") {
      auto text = plain(v);
      if (!text) return std::nullopt;
      e.set(k, *text);
    }
    // Other members say nothing the letter uses.
  }
  if (!type.empty()) {
    auto c = core::Classification::parse(taxonomy, type, identifier);
    e.set_classification(c ? *c : core::Classification::undetermined(std::string(identifier)));
  }
  return e;
}

// Inline quotes from one report mail stop growing past this (the mail itself is attached whole).
constexpr std::size_t kMaxMailExcerpt = 4096;

letters::Case letter_case(store::Store& st, const cases::Case& c, std::size_t max_events,
                          std::map<std::int64_t, std::optional<std::string>>& mail_reports) {
  std::vector<core::Event> events;
  std::vector<std::int64_t> report_ids;
  for (const store::EventRow& row : st.case_events(c.id, max_events)) {
    try {
      auto quick = letter_event(row.json);
      events.push_back(quick ? std::move(*quick) : core::Event::from_json(row.json));
      report_ids.push_back(row.report_id);
    } catch (const std::exception& e) {
      spdlog::warn("stored event unreadable case={} event={} reason={}", c.id, row.id, e.what());
    }
  }
  letters::Case lc = letters::case_from_events(std::to_string(c.id), events);
  // Reports that came as mails travel as the original mail (message/rfc822), once per report.
  std::vector<letters::Evidence> evidence;
  std::map<std::int64_t, std::size_t> attached;  // report id -> its mail in `evidence`
  for (std::size_t i = 0; i < events.size() && i < lc.evidence.size(); ++i) {
    const std::int64_t rid = report_ids[i];
    auto it = mail_reports.find(rid);
    if (it == mail_reports.end()) {
      // A CSV row's report is never attached as a mail: its bytes (a whole feed file) are not read.
      std::optional<std::string> bytes;
      if (lc.evidence[i].kind != letters::EvidenceKind::kCsvRow) {
        if (auto rep = st.report(rid, /*with_bytes=*/true); rep && letters::looks_like_mail(rep->bytes)) {
          bytes = std::move(rep->bytes);
        }
      }
      it = mail_reports.emplace(rid, std::move(bytes)).first;
    }
    if (it->second) {
      auto [at, first] = attached.emplace(rid, evidence.size());
      if (first) evidence.push_back({letters::EvidenceKind::kMail, {}, *it->second, lc.feed_name, {}});
      // The event's own evidence (e.g. the log lines naming the address) is quoted inline; the
      // whole mail is the attachment.
      const std::string_view raw = events[i].raw;
      std::string& excerpt = evidence[at->second].excerpt;
      if (!raw.empty() && !letters::looks_like_mail(raw) && excerpt.find(raw) == std::string::npos &&
          excerpt.size() < kMaxMailExcerpt) {
        excerpt += raw;
        if (excerpt.back() != '\n') excerpt += '\n';
      }
    } else {
      evidence.push_back(std::move(lc.evidence[i]));
    }
  }
  lc.evidence = std::move(evidence);
  lc.classification = c.classification;
  lc.source_ip = c.source_ip;
  if (c.source_port) lc.port = c.source_port;
  lc.first_seen = c.first_seen;
  lc.last_seen = c.last_seen;
  lc.event_count = static_cast<std::uint64_t>(c.event_count);
  lc.severity = c.severity;
  lc.previously_notified = c.notifications > 0;
  lc.probe = confirmed_measurement(st, c.id);
  return lc;
}

}  // namespace

Result run(store::Store& st, const config::Config& cfg, const Options& opt) {
  Result result;
  const letters::ResendPolicy policy = letters::ResendPolicy::from(cfg);

  // Due cases by customer, in customer order (stable output).
  std::map<std::string, std::vector<std::pair<cases::Case, letters::Due>>> due_by_customer;
  store::CaseFilter filter;
  filter.active_only = true;
  for (cases::Case& c : st.list_cases(filter)) {
    if (c.state == cases::CaseState::kClosed || c.state == cases::CaseState::kResolved) continue;
    if (c.customer_id.empty()) continue;  // unassigned events never form a customer's case
    ++result.cases_active;
    const letters::Due d = case_due(c, policy, opt.now);
    if (d == letters::Due::kNotDue) {
      ++result.cases_not_due;
      continue;
    }
    due_by_customer[c.customer_id].emplace_back(std::move(c), d);
  }
  if (due_by_customer.empty()) return result;

  letters::RendererOptions ro;
  ro.organisation = cfg.organisation;
  ro.sender_name = cfg.sender_name;
  ro.sender_address = cfg.sender_address;
  ro.default_language = cfg.default_language;
  ro.default_time_zone = cfg.default_time_zone;
  ro.template_dir = cfg.template_dir;
  ro.data_dir = cfg.data_dir;
  ro.evidence_rows_inline = cfg.evidence_rows_inline;
  letters::Renderer renderer(ro, knowledge::KnowledgeBase::instance(cfg.data_dir));
  const delivery::Sender sender{cfg.sender_name, cfg.sender_address, cfg.reply_to};
  std::optional<delivery::Maildir> outbox;
  if (!opt.dry_run) outbox.emplace(cfg.outbox_dir, opt.sync);
  std::map<std::int64_t, std::optional<std::string>> mail_reports;
  // Letters are staged in the outbox's tmp/ and, a batch at a time, made durable with one sync, moved
  // into new/ and recorded in one transaction: a crash in between sends those letters again rather
  // than never.
  struct Pending {
    store::Notification notification;
    std::size_t line = 0;  // index in result.letters
  };
  std::vector<Pending> pending;
  // The reads of a batch (customers, events, reports, probes) share one read transaction: one lock
  // of the store per batch instead of one per query.
  std::optional<store::Store::Transaction> reading;
  auto commit = [&] {
    if (reading) {
      reading->commit();
      reading.reset();
    }
    if (pending.empty()) return;
    const std::vector<std::filesystem::path> paths = outbox->commit();
    for (std::size_t i = 0; i < pending.size() && i < paths.size(); ++i) {
      pending[i].notification.path = paths[i].string();
      result.letters[pending[i].line].path = pending[i].notification.path;
    }
    auto tx = st.transaction();
    cases::CaseBook book(st, cfg);
    for (const Pending& p : pending) {
      book.record_letter(p.notification);
      spdlog::debug("letter written customer={} cases={} path={}", p.notification.customer_id,
                    p.notification.case_ids.size(), p.notification.path);
    }
    tx.commit();
    pending.clear();
  };

  for (auto& [customer_id, due_cases] : due_by_customer) {
    if (!reading) reading.emplace(st.transaction());
    const auto customer = st.customer(customer_id);
    if (!customer) {
      result.warnings.push_back(
          fmt::format("customer {} has cases but is not in the directory; no letter", customer_id));
      continue;
    }
    if (customer->emails.empty()) {
      result.warnings.push_back(
          fmt::format("customer {} has no e-mail address; no letter for {} case(s)", customer_id, due_cases.size()));
      continue;
    }
    letters::LetterInput input;
    input.customer = {customer->id, customer->name, customer->emails, customer->language, customer->time_zone};
    LetterLine line;
    line.customer_id = customer->id;
    line.customer_name = customer->name;
    line.to = customer->emails;
    for (const auto& [c, d] : due_cases) {
      input.cases.push_back(letter_case(st, c, opt.max_evidence_events, mail_reports));
      line.cases.push_back({c.id, c.classification.to_string(), c.source_ip.to_string(), c.event_count, d, true});
    }
    const letters::Letter letter = renderer.render(input);
    for (const std::string& id : letter.cases_without_text) {
      for (CaseLine& cl : line.cases) {
        if (std::to_string(cl.case_id) != id) continue;
        cl.has_text = false;
        result.warnings.push_back(fmt::format(
            "case {} ({} at {}, customer {}): no specific text for this identifier in the knowledge base; the "
            "letter says what the reporter called it and shows the evidence",
            id, cl.classification, cl.address, customer_id));
      }
    }
    line.language = letter.language;
    line.subject = letter.subject;
    line.message_id = delivery::make_message_id(cfg.sender_address, opt.now);
    const std::string mime = delivery::build_mime(letter, sender, opt.now, line.message_id);
    if (opt.dry_run) {
      if (opt.dry_run_out) *opt.dry_run_out << mime << "\n";
      result.letters.push_back(std::move(line));
    } else {
      outbox->stage(mime);
      Pending p;
      p.notification.customer_id = customer->id;
      p.notification.time = opt.now;
      p.notification.message_id = line.message_id;
      p.notification.language = letter.language;
      for (const auto& [c, d] : due_cases) p.notification.case_ids.push_back(c.id);
      p.line = result.letters.size();
      result.letters.push_back(std::move(line));
      pending.push_back(std::move(p));
      if (pending.size() >= std::max<std::size_t>(opt.record_batch, 1)) commit();
    }
  }
  commit();
  return result;
}

void print_summary(const Result& r, std::ostream& out, bool dry_run) {
  if (r.letters.empty()) {
    out << fmt::format("notify: no letters due ({} active case(s), {} unchanged and recently notified)\n",
                       r.cases_active, r.cases_not_due);
  }
  for (const LetterLine& l : r.letters) {
    out << fmt::format("{} {} ({}), to {}\n", l.customer_id, l.customer_name, l.language, fmt::join(l.to, ", "));
    for (const CaseLine& c : l.cases) {
      out << fmt::format("  case {}: {} at {}, {} event(s), {}{}\n", c.case_id, c.classification, c.address,
                         c.event_count, letters::to_string(c.due), c.has_text ? "" : " [no specific text]");
    }
    out << fmt::format("  letter: {}\n", dry_run ? std::string("(dry run, printed above)") : l.path);
  }
  if (!r.letters.empty()) {
    out << fmt::format("notify: {} letter(s), {} case(s) not due\n", r.letters.size(), r.cases_not_due);
  }
  for (const std::string& w : r.warnings) out << "warning: " << w << "\n";
}

}  // namespace klartext::notify
