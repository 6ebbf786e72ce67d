// `klartext check`: probes the operator's own addresses for UDP amplifiers and measures BAF/PAF.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "probe/catalogue.hpp"
#include "probe/engine.hpp"
#include "probe/pcap.hpp"
#include "probe/policy.hpp"

namespace klartext::cli {
namespace {

struct CheckArgs {
  std::vector<std::string> targets;
  std::vector<std::string> services;
  bool all = false;
  std::string source;
  bool json = false;
  double rate = 0;
  std::int64_t timeout_ms = -1;
  std::int64_t quiet_ms = -1;
  std::int64_t spacing_ms = -1;
  int retries = -1;
  std::size_t in_flight = 512;
  std::uint64_t max_targets = 65536;
  std::string dns_name;
  std::vector<std::string> params;
  bool list = false;
  std::string write_requests;
};

struct Selection {
  const probe::ProbeSpec* spec;
  const probe::Variant* variant;
  std::uint16_t port;
};

// Parses "NAME[:VARIANT][@PORT]" items (comma lists already split by CLI11).
std::vector<Selection> select_probes(const CheckArgs& a, const probe::Catalogue& cat) {
  std::vector<Selection> out;
  auto add_unique = [&](Selection s) {
    bool dup = std::any_of(out.begin(), out.end(), [&](const Selection& o) {
      return o.spec == s.spec && o.variant == s.variant && o.port == s.port;
    });
    if (!dup) out.push_back(s);
  };
  if (a.all || a.services.empty()) {
    for (const auto& p : cat.probes()) add_unique({&p, &p.variants.front(), p.port});
  }
  for (std::string item : a.services) {
    std::optional<std::uint16_t> port;
    if (auto at = item.rfind('@'); at != std::string::npos) {
      unsigned v = 0;
      auto ps = item.substr(at + 1);
      auto [ptr, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), v);
      if (ec != std::errc{} || ptr != ps.data() + ps.size() || v == 0 || v > 65535) {
        throw CommandFailed("--service " + item + ": bad port", 2);
      }
      port = static_cast<std::uint16_t>(v);
      item.resize(at);
    }
    std::string variant;
    if (auto colon = item.find(':'); colon != std::string::npos) {
      variant = item.substr(colon + 1);
      item.resize(colon);
    }
    auto specs = cat.select(item);
    if (specs.empty()) throw CommandFailed("--service " + item + ": no such probe or service (see --list)", 2);
    for (const auto* s : specs) {
      const probe::Variant* v = &s->variants.front();
      if (!variant.empty()) {
        v = s->find_variant(variant);
        if (v == nullptr)
          throw CommandFailed("--service " + item + ": probe " + s->name + " has no variant " + variant, 2);
      }
      add_unique({s, v, port.value_or(s->port)});
    }
  }
  return out;
}

void list_catalogue(const probe::Catalogue& cat) {
  for (const auto& p : cat.probes()) {
    std::printf("%-13s %-12s udp/%-5u %s%s\n", p.name.c_str(), p.service.c_str(), p.port, p.description.c_str(),
                p.abusable ? "" : " [baseline]");
    for (const auto& v : p.variants) {
      std::printf("  :%-22s %zu bytes  %s\n", v.name.c_str(), p.codec->build(v.params, 0x1234).size(),
                  v.description.c_str());
    }
  }
}

// Every variant's request as IPv4/UDP packets from 127.0.0.2 to 127.0.0.1, for dissector checks.
void write_requests(const probe::Catalogue& cat, const std::string& path) {
  probe::PcapWriter pcap;
  std::uint16_t sport = 40000;
  std::size_t frame = 0;
  for (const auto& p : cat.probes()) {
    for (const auto& v : p.variants) {
      auto req = p.codec->build(v.params, 0x1234);
      pcap.add_udp(0x7f000002, sport++, 0x7f000001, p.port, req);
      // One line per frame: what it is and which tshark dissector should decode it.
      std::printf("%zu\t%s:%s\t%u\t%zu\t%s\n", ++frame, p.name.c_str(), v.name.c_str(), p.port, req.size(),
                  p.tshark.empty() ? "-" : p.tshark.c_str());
    }
  }
  std::ofstream f(path, std::ios::binary);
  f.write(pcap.bytes().data(), static_cast<std::streamsize>(pcap.bytes().size()));
  if (!f) throw CommandFailed("cannot write " + path);
}

void run_check(const CheckArgs& a) {
  auto cfg = config::load(global_options().config_path);
  const auto& cat = probe::Catalogue::instance(cfg.data_dir);
  if (a.list) return list_catalogue(cat);
  if (!a.write_requests.empty()) return write_requests(cat, a.write_requests);
  if (a.targets.empty()) throw CommandFailed("no target given (an address or prefix of your own network)", 2);

  // Safety first: every target is checked before a single packet leaves.
  auto policy = probe::TargetPolicy::from_config(cfg.probe_allowed_prefixes);
  if (!policy) throw CommandFailed(policy.error().message, 2);
  policy->max_targets = a.max_targets;
  auto addrs = probe::expand_targets(a.targets, *policy);
  if (!addrs) throw CommandFailed(addrs.error().message, 2);

  probe::EngineOptions opt;
  if (!a.source.empty()) {
    auto src = core::IpAddress::parse(a.source);
    if (!src) throw CommandFailed("--source " + a.source + ": not an IP address", 2);
    opt.source = *src;
  }
  opt.rate_pps = a.rate > 0 ? a.rate : static_cast<double>(cfg.probe_rate_pps);
  opt.timeout = std::chrono::milliseconds(a.timeout_ms >= 0 ? a.timeout_ms : cfg.probe_timeout_ms);
  opt.quiet =
      std::chrono::milliseconds(a.quiet_ms >= 0 ? a.quiet_ms : std::min<std::int64_t>(500, opt.timeout.count()));
  opt.target_spacing = std::chrono::milliseconds(a.spacing_ms >= 0 ? a.spacing_ms : cfg.probe_target_spacing_ms);
  opt.retries = a.retries >= 0 ? a.retries : static_cast<int>(cfg.probe_retries);
  opt.max_in_flight = a.in_flight;
  bool loopback = std::all_of(addrs->begin(), addrs->end(), [](const core::IpAddress& x) { return x.is_loopback(); });
  double ceiling = loopback ? probe::kMaxLoopbackRatePps : probe::kMaxRatePps;
  if (opt.rate_pps > ceiling) {
    std::cerr << "klartext: rate " << opt.rate_pps << " pps is above the ceiling of " << ceiling << " pps; using "
              << ceiling << "\n";
  }

  auto selection = select_probes(a, cat);
  std::vector<probe::ProbeJob> jobs;
  jobs.reserve(addrs->size() * selection.size());
  for (const auto& addr : *addrs) {
    for (const auto& s : selection) {
      probe::ProbeJob j{addr, s.port, s.spec, s.variant, s.variant->params};
      if (!a.dns_name.empty() && s.spec->name == "dns") j.params["qname"] = a.dns_name;
      for (const auto& kv : a.params) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) throw CommandFailed("--param " + kv + ": expected [PROBE.]KEY=VALUE", 2);
        std::string key = kv.substr(0, eq);
        if (auto dot = key.find('.'); dot != std::string::npos) {
          if (key.substr(0, dot) != s.spec->name) continue;  // scoped to another probe
          key = key.substr(dot + 1);
        }
        j.params[key] = kv.substr(eq + 1);
      }
      jobs.push_back(std::move(j));
    }
  }

  std::vector<probe::ProbeResult> results;
  std::string line;
  probe::Engine engine(opt);
  engine.run(jobs, [&](probe::ProbeResult&& r) {
    if (a.json) {
      line.clear();
      r.append_json(line);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    } else {
      results.push_back(std::move(r));
    }
  });
  if (!a.json) {
    std::sort(results.begin(), results.end(), [](const probe::ProbeResult& x, const probe::ProbeResult& y) {
      return std::tie(x.target, x.port, x.probe, x.variant) < std::tie(y.target, y.port, y.probe, y.variant);
    });
    std::fputs(probe::format_table(results).c_str(), stdout);
  }
}

}  // namespace

void register_check(CLI::App& app) {
  auto a = std::make_shared<CheckArgs>();
  auto* cmd = app.add_subcommand(
      "check",
      "Probe your own addresses for UDP amplifiers (NTP monlist/readvar, DNS, SSDP, memcached, ...) and measure\n"
      "the bandwidth and packet amplification factors. Only addresses inside probe.allowed_prefixes are probed.");
  cmd->add_option("targets", a->targets, "addresses or prefixes to probe (each address of a prefix)");
  cmd->add_option("--service", a->services,
                  "probes to run: a probe name or service, optionally NAME:VARIANT and @PORT (comma list); see --list")
      ->delimiter(',');
  cmd->add_flag("--all", a->all, "run every probe of the catalogue (the default without --service)");
  cmd->add_option("--source", a->source, "bind the probes to this local address");
  cmd->add_flag("--json", a->json, "print one JSON object per probe (JSON Lines) instead of a table");
  cmd->add_option("--rate", a->rate, "global packet rate limit in packets/s (default: probe.rate_pps)");
  cmd->add_option("--timeout-ms", a->timeout_ms, "wait this long for a first answer (default: probe.timeout_ms)");
  cmd->add_option("--quiet-ms", a->quiet_ms, "a measurement ends after this much silence (default 500)");
  cmd->add_option("--spacing-ms", a->spacing_ms, "minimum time between requests to one address");
  cmd->add_option("--retries", a->retries, "resend a request that got no answer this often (default: probe.retries)");
  cmd->add_option("--in-flight", a->in_flight, "probes in flight at once");
  cmd->add_option("--max-targets", a->max_targets, "refuse runs that expand to more addresses than this");
  cmd->add_option("--dns-name", a->dns_name, "name the dns probe asks for (default: the root, type ANY)");
  cmd->add_option("--param", a->params,
                  "override a codec parameter, [PROBE.]KEY=VALUE (e.g. snmp.community=secret, dns.qtype=16)");
  cmd->add_flag("--list", a->list, "list the probe catalogue and exit");
  cmd->add_option("--write-requests", a->write_requests,
                  "write every probe request as a pcap file (no packet is sent) and list its frames, e.g. for tshark");
  cmd->callback([a] { run_check(*a); });
}

}  // namespace klartext::cli
