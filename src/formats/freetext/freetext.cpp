// Free-text reports: one event per reported address, classified by the rules or left undetermined.
#include "formats/freetext/freetext.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

#include "formats/freetext/extract.hpp"
#include "formats/freetext/rules.hpp"

namespace klartext::formats::freetext {
namespace {

constexpr std::size_t kMaxEvidenceLines = 50;
constexpr std::size_t kMaxRawBytes = 16 << 10;

// Addresses a report can be about: public ones, and the documentation ranges our fixtures use.
bool reportable(const core::IpAddress& ip) {
  if (ip.is_loopback() || ip.is_private() || ip.is_multicast() || ip.is_broadcast() || ip.is_unspecified()) {
    return false;
  }
  if (ip.is_v4()) {
    std::uint32_t v = ip.v4_value();
    if ((v >> 24) == 0 || (v >> 24) >= 224) return false;  // "this network", class E, netmasks
  }
  return true;
}

struct Reported {
  core::IpAddress ip;
  std::string url;           // set for a reported URL (reports that name no address)
  bool singled_out = false;  // the URL is defanged or named on a reporting line
  bool source = false, neutral = false, destination = false;
  std::vector<std::size_t> lines;  // indexes into Extraction::lines, in order, unique
  bool in_subject = false;
  std::set<std::uint16_t> ports, destination_ports;
  std::set<core::IpAddress> peers;
};

std::string url_host(std::string_view url) {
  std::size_t s = url.find("://");
  if (s == std::string_view::npos) return {};
  std::string_view rest = url.substr(s + 3);
  std::size_t e = rest.find_first_of("/?#");
  rest = rest.substr(0, e);
  if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    return std::string(rest.substr(1, close == std::string_view::npos ? rest.size() - 1 : close - 1));
  }
  if (std::size_t colon = rest.find(':'); colon != std::string_view::npos) rest = rest.substr(0, colon);
  return std::string(rest);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The last two labels of a host name ("www.example.org" -> "example.org"): good enough to tell the
// reporter's own links from the ones it reports.
std::string base_domain(std::string_view host) {
  std::size_t last = host.rfind('.');
  if (last == std::string_view::npos || last == 0) return std::string(host);
  std::size_t prev = host.rfind('.', last - 1);
  return std::string(prev == std::string_view::npos ? host : host.substr(prev + 1));
}

bool host_matches(std::string_view host, std::string_view suffix) {
  if (suffix.empty() || host.size() < suffix.size()) return false;
  if (host.substr(host.size() - suffix.size()) != suffix) return false;
  return host.size() == suffix.size() || host[host.size() - suffix.size() - 1] == '.';
}

// A URL the report is about, not one of the reporter's own links or a reference (CVE pages, schemas).
bool reported_url(const FoundUrl& u, std::string_view sender_domain, const RuleSet& rules) {
  std::string host = lower(url_host(u.url));
  if (host.empty() || host.find('.') == std::string::npos) return false;
  if (u.defanged) return true;
  std::string sender = base_domain(lower(sender_domain));
  if (!sender.empty() && host_matches(host, sender)) return false;
  for (const std::string& ignored : rules.url_ignore_hosts) {
    if (host_matches(host, ignored)) return false;
  }
  return true;
}

// Appends `v` as printf's "%.2f" writes it: std::to_chars with a precision is specified to give
// printf's text, without the format parsing (snprintf was a tenth of building an event).
void append_fixed2(std::string& out, double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2);
  if (r.ec == std::errc()) {
    out.append(buf, r.ptr);
    return;
  }
  char big[512];
  int n = std::snprintf(big, sizeof big, "%.2f", v);
  out.append(big, static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(sizeof big) - 1)));
}

}  // namespace

std::size_t parse_free_text(ParseContext& ctx, const TextReport& report) {
  const RuleSet& rules = rules_for(ctx.options().data_dir);
  ExtractOptions eo;
  eo.sent = report.sent;
  Extraction ex = extract(report.subject, report.body, eo);

  // Group mentions by address, keeping first-appearance order.
  std::vector<Reported> found;
  std::map<core::IpAddress, std::size_t> index;
  // Of the relays in quoted Received headers, only the first hop (bottom-most public one per
  // paragraph) is where the mail came from; the others are the reporter's or forwarders' relays.
  std::map<std::size_t, const Mention*> origin_by_paragraph;
  for (const Mention& m : ex.mentions) {
    if (m.role == Role::kRelay && reportable(m.ip)) origin_by_paragraph[ex.lines[m.line].paragraph] = &m;
  }
  std::vector<Mention> mentions;
  mentions.reserve(ex.mentions.size());
  for (const Mention& m : ex.mentions) {
    if (m.role != Role::kRelay) {
      mentions.push_back(m);
    } else if (origin_by_paragraph[ex.lines[m.line].paragraph] == &m) {
      mentions.push_back(m);
      mentions.back().role = Role::kSource;
    }
  }
  for (const Mention& m : mentions) {
    if (!reportable(m.ip)) continue;
    auto [it, inserted] = index.try_emplace(m.ip, found.size());
    if (inserted) found.push_back(Reported{m.ip});
    Reported& r = found[it->second];
    r.source = r.source || m.role == Role::kSource;
    r.neutral = r.neutral || m.role == Role::kNeutral;
    r.destination = r.destination || m.role == Role::kDestination;
    if (m.line == kSubjectLine) {
      r.in_subject = true;
    } else if (r.lines.empty() || r.lines.back() != m.line) {
      r.lines.push_back(m.line);
    }
    if (m.role != Role::kDestination && m.port) r.ports.insert(*m.port);
    if (m.destination_port) r.destination_ports.insert(*m.destination_port);
    if (m.peer) r.peers.insert(*m.peer);
  }
  // An address the text only names as a target (DST=, "targeting our IPs:") is the reporter's, not
  // the reported one.
  std::erase_if(found, [](const Reported& r) { return !r.source && !(r.neutral && !r.destination); });

  // Reports about web content (phishing, copyright, malware URLs) often name no address, only URLs.
  if (found.empty() && !ex.urls.empty()) {
    // Lines below a heading such as "Infringing URLs:" (until the next heading) single out their URLs.
    std::vector<bool> under_heading(ex.lines.size(), false);
    bool active = false;
    for (std::size_t i = 0; i < ex.lines.size(); ++i) {
      std::string_view t = ex.lines[i].text;
      std::size_t e = t.find_last_not_of(" \t\r");
      bool heading = e != std::string_view::npos && t[e] == ':' && t.find("://") == std::string_view::npos;
      if (heading) {
        active = rules.url_report_heading && rules.url_report_heading->search(t);
      } else if (active && i > 0 && ex.lines[i - 1].paragraph != ex.lines[i].paragraph) {
        // The list under a heading ends with the first following paragraph that names no URL.
        bool has_url = false;
        for (std::size_t k = i; k < ex.lines.size() && ex.lines[k].paragraph == ex.lines[i].paragraph; ++k) {
          has_url = has_url || ex.lines[k].text.find("://") != std::string_view::npos;
        }
        active = has_url;
      }
      under_heading[i] = active && !heading;
    }
    for (const FoundUrl& u : ex.urls) {
      if (!reported_url(u, report.feed_provider, rules)) continue;
      Reported r;
      r.url = u.url;
      r.singled_out = u.defanged;
      for (std::size_t li : u.lines) {
        std::string_view line = li == kSubjectLine ? report.subject : ex.lines[li].text;
        if (rules.url_report_line && rules.url_report_line->search(line)) r.singled_out = true;
        if (li != kSubjectLine && under_heading[li]) r.singled_out = true;
        if (li == kSubjectLine) {
          r.in_subject = true;
        } else {
          r.lines.push_back(li);
        }
      }
      found.push_back(std::move(r));
    }
  }
  if (found.empty()) {
    ctx.issue("freetext-no-address", 0, 0, "free text names no reportable IP address or URL",
              report.subject.empty() ? report.body.substr(0, 200) : report.subject,
              "the report may name only domains, or address a private network");
    return 0;
  }

  // The report's own words: subject and body without quoted WHOIS output (its remarks speak of
  // "portscans, DoS attacks and spam" in every reply).
  std::string text;
  text.reserve(report.subject.size() + report.body.size() + 1);
  text += report.subject;
  text += '\n';
  std::size_t kept = 0;
  for (const TextLine& l : ex.lines) {
    if (is_registry_line(l.text)) continue;
    text += l.text;
    text += '\n';
    ++kept;
  }
  if (ex.lines.empty() && kept == 0) text += report.body;
  Classifier classifier(rules, report.subject, text);

  // Times of paragraphs, for addresses whose own lines carry no time ("IP: x" / "Time: y").
  // A report that names one single time means that time for every address in it.
  std::map<std::size_t, const FoundTime*> paragraph_time;
  const FoundTime* only_time = nullptr;
  bool one_time = true;
  for (const TextLine& l : ex.lines) {
    if (!l.time) continue;
    paragraph_time.try_emplace(l.paragraph, &*l.time);
    if (only_time != nullptr && only_time->time != l.time->time) one_time = false;
    if (only_time == nullptr) only_time = &*l.time;
  }
  if (!one_time) only_time = nullptr;

  std::size_t emitted = 0;
  core::Event ev;
  for (const Reported& r : found) {
    if (emitted >= ctx.limits().max_events_per_input) {
      ctx.issue("event-limit", 0, 0, "free text names more addresses than limits.max_events_per_input");
      break;
    }
    Evidence evidence;
    for (std::size_t li : r.lines) evidence.lines.push_back(ex.lines[li].text);
    evidence.distinct_destination_ports = r.destination_ports.size();
    evidence.distinct_destination_ips = r.peers.size();
    Verdict verdict = classifier.classify(evidence);
    if (!r.url.empty() && !r.singled_out && verdict.rule != nullptr) {
      // A link the report does not single out may be the reporter's own or a reference: no class.
      verdict.rule = nullptr;
      verdict.classification = core::Classification::undetermined();
      verdict.reason = "url-not-singled-out";
    }

    ev.clear();
    ev.raw.clear();
    ev.set_classification(verdict.classification);
    if (r.url.empty()) {
      ev.set_source_ip(r.ip);
    } else {
      ev.set("source.url", r.url);
      std::string host = url_host(r.url);
      if (!host.empty() && !core::IpAddress::parse(host)) ev.set("source.fqdn", host);
    }
    if (r.ports.size() == 1) ev.set_source_port(*r.ports.begin());
    if (r.destination_ports.size() == 1) ev.set_destination_port(*r.destination_ports.begin());
    if (r.peers.size() == 1) ev.set_destination_ip(*r.peers.begin());

    const FoundTime* when = nullptr;
    for (std::size_t li : r.lines) {
      const auto& t = ex.lines[li].time;
      if (t && (when == nullptr || t->time < when->time)) when = &*t;
    }
    if (when == nullptr) {
      for (std::size_t li : r.lines) {
        auto it = paragraph_time.find(ex.lines[li].paragraph);
        if (it != paragraph_time.end()) {
          when = it->second;
          break;
        }
      }
    }
    if (when == nullptr) when = only_time;
    if (when != nullptr) {
      ev.set_time_source(when->time);
      if (!ex.zone_note.empty()) {
        ev.set("extra.time_zone", ex.zone_note);
      } else if (!when->zone_known) {
        ev.set("extra.time_zone", "UTC (assumed: the report gives no zone)");
      }
    }
    if (report.sent) ev.set_time_observation(*report.sent);
    if (!report.feed_provider.empty()) ev.set("feed.provider", report.feed_provider);
    ev.set("feed.name", "free-text");
    std::string conf;  // as snprintf("%.2f") into 16 bytes wrote it
    append_fixed2(conf, verdict.confidence);
    if (conf.size() > 15) conf.resize(15);
    ev.set("extra.confidence", conf, core::JsonKind::kNumber);
    if (verdict.rule != nullptr) {
      ev.set("extra.rule", verdict.rule->id);
    } else if (!verdict.scores.empty()) {
      ev.set("extra.undetermined_reason", verdict.reason);
      ev.set("extra.best_rule", verdict.scores.front().rule->id);
    }
    if (!verdict.scores.empty()) {
      // Why: the top rule scores (evidence + words), so a reader can check the verdict.
      std::string why;
      for (std::size_t k = 0; k < verdict.scores.size() && k < 3; ++k) {
        const RuleScore& sc = verdict.scores[k];
        // As snprintf("%s%s=%.2f (evidence %.2f, words %.2f)") into 96 bytes wrote it, cut included.
        const std::size_t start = why.size();
        if (k != 0) why += "; ";
        why.append(sc.rule->id.c_str());
        why += '=';
        append_fixed2(why, sc.total());
        why += " (evidence ";
        append_fixed2(why, sc.evidence);
        why += ", words ";
        append_fixed2(why, sc.words);
        why += ')';
        if (why.size() - start > 95) why.resize(start + 95);
      }
      ev.set("extra.rule_scores", why);
    }
    std::string ip_text = r.ip.to_string();
    for (const FoundUrl& u : ex.urls) {
      if (!r.url.empty()) break;
      if (url_host(u.url) == ip_text) {
        ev.set("source.url", u.url);
        break;
      }
    }

    // Evidence: the subject if it names the address, then the lines that do.
    if (r.in_subject) {
      ev.raw += "Subject: ";
      ev.raw += report.subject;
      ev.raw += '\n';
    }
    std::size_t n = 0;
    for (std::size_t li : r.lines) {
      if (n == kMaxEvidenceLines || ev.raw.size() > kMaxRawBytes) {
        ev.raw += "[... " + std::to_string(r.lines.size() - n) + " more lines]\n";
        break;
      }
      ev.raw += ex.lines[li].text;
      ev.raw += '\n';
      ++n;
    }
    if (r.lines.size() > n) ev.set_int("extra.evidence_lines", static_cast<std::int64_t>(r.lines.size()));
    ctx.emit(ev);
    ++emitted;
  }
  return emitted;
}

}  // namespace klartext::formats::freetext
