// Letters for 10,000 customers: the whole notify run over a SQLite store (in process and as the
// `klartext notify` command), and its parts: rendering, MIME, Maildir. Target: at least 5,000
// letters/s of CPU time on one core for the whole notify run.
// Every stage reports letters/s of CPU time (primary; the machine is shared) and of wall time, and its
// peak RSS (VmHWM, reset at the start of the stage where the kernel allows it).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cases/case_book.hpp"
#include "delivery/maildir.hpp"
#include "delivery/mime.hpp"
#include "knowledge/knowledge.hpp"
#include "letters/renderer.hpp"
#include "notify/notify.hpp"
#include "store/store.hpp"

using namespace klartext;

namespace {

// 10,000 customers; KLARTEXT_BENCH_CUSTOMERS sets fewer for a profiler run (callgrind on 1,000).
const int kCustomers = [] {
  const char* v = std::getenv("KLARTEXT_BENCH_CUSTOMERS");
  return v && std::atoi(v) > 0 ? std::atoi(v) : 10'000;
}();
constexpr std::string_view kHeader =
    R"("timestamp","ip","protocol","port","hostname","packets","size","asn","geo","region","city","naics","sic","sector","amplification")";

// Peak RSS of this stage: the kernel's high-water mark is reset when the stage starts (clear_refs 5),
// so an earlier stage's peak does not show up in a later one. Falls back to the process peak.
void reset_peak_rss() {
  ::malloc_trim(0);  // what earlier stages freed is given back first, so it does not count here
  std::ofstream("/proc/self/clear_refs") << "5";
}

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

// CPU time (user + sys) and wall time of the measured parts of a stage. The process's usage is the
// "one core" figure for single-threaded stages; threaded stages use each thread's own usage. The
// kernel's share (sys_pct) is shown apart: file creation in the outbox and SQLite's I/O are system time.
class StageClock {
 public:
  explicit StageClock(int who = RUSAGE_SELF) : who_(who) {}
  void start() {
    usage(user0_, sys0_);
    wall0_ = std::chrono::steady_clock::now();
  }
  void stop() {
    double u = 0, s = 0;
    usage(u, s);
    user_ += u - user0_;
    sys_ += s - sys0_;
    wall_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  }
  // letters_per_s_cpu, letters_per_s_wall, sys_pct and peak_rss_MiB for `letters` letters.
  void report(benchmark::State& state, double letters) const {
    const double cpu = user_ + sys_;
    state.counters["letters_per_s_cpu"] =
        benchmark::Counter(cpu > 0 ? letters / cpu : 0, benchmark::Counter::kAvgThreads);
    state.counters["letters_per_s_wall"] = wall_ > 0 ? letters / wall_ : 0;  // summed over threads
    state.counters["sys_pct"] = benchmark::Counter(cpu > 0 ? 100 * sys_ / cpu : 0, benchmark::Counter::kAvgThreads);
    state.counters["peak_rss_MiB"] = benchmark::Counter(peak_rss_mib(), benchmark::Counter::kAvgThreads);
  }

 private:
  void usage(double& user, double& sys) const {
    rusage ru{};
    getrusage(who_, &ru);
    user = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
    sys = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
  }
  int who_;
  std::chrono::steady_clock::time_point wall0_;
  double user0_ = 0, sys0_ = 0, user_ = 0, sys_ = 0, wall_ = 0;
};

std::string address(int i) {
  return fmt::format("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

// 10,000 customers, half German, half English; every third one has a second case (ntp-version), every
// fifth an infected system; each case has 1-3 original rows.
std::vector<letters::LetterInput> inputs() {
  std::vector<letters::LetterInput> out;
  out.reserve(kCustomers);
  const auto t0 = *core::Timestamp::parse("2026-11-27 02:14:09");
  for (int i = 0; i < kCustomers; ++i) {
    letters::LetterInput in;
    in.customer = {fmt::format("K-{}", 100000 + i),
                   fmt::format("Kunde {} GmbH", i),
                   {fmt::format("noc{}@example.org", i)},
                   i % 2 ? "en" : "de",
                   i % 2 ? "Europe/London" : "Europe/Berlin"};
    auto add = [&](core::Classification cls, std::string feed, int rows) {
      letters::Case c;
      c.id = std::to_string(i * 3 + static_cast<int>(in.cases.size()));
      c.classification = std::move(cls);
      c.reported_as = feed;
      c.source_ip = *core::IpAddress::parse(address(i));
      c.port = 123;
      c.transport = "udp";
      c.first_seen = t0;
      c.last_seen = core::Timestamp::from_seconds(t0.seconds() + 3600 * (rows - 1));
      c.event_count = static_cast<std::uint64_t>(rows);
      c.severity = core::Severity::kHigh;
      c.feed_provider = "Shadowserver";
      c.feed_name = feed;
      c.feed_documentation_url = "https://www.shadowserver.org/what-we-do/network-reporting/ntp-monitor-report/";
      for (int r = 0; r < rows; ++r) {
        c.evidence.push_back(letters::evidence_from_raw(
            fmt::format("{}\n\"2026-11-27 0{}:14:09\",{},udp,123,,100,48200,64500,DE,,,0,0,,548.4", kHeader, r + 2,
                        address(i)),
            true));
      }
      in.cases.push_back(std::move(c));
    };
    add(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"), "NTP-Monitor", 1 + i % 3);
    if (i % 3 == 0) add(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-version"), "NTP-Version", 1);
    if (i % 5 == 0) add(core::Classification::of(core::IncidentType::kInfectedSystem, "andromeda"), "Sinkhole", 2);
    out.push_back(std::move(in));
  }
  return out;
}

// A fresh directory for a stage: in the temporary directory, or in /dev/shm (empty path: none).
std::filesystem::path bench_dir(bool memfs, std::string_view prefix) {
  std::filesystem::path base = memfs ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
  if (memfs && !std::filesystem::is_directory(base)) return {};
  return base / (std::string(prefix) + std::to_string(::getpid()));
}

// The stages that touch files run twice: memfs:0 in the temporary directory, memfs:1 in /dev/shm.
void on_disk_and_in_memory(benchmark::internal::Benchmark* b) {
  b->ArgName("memfs")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
}

const std::vector<letters::LetterInput>& shared_inputs() {
  static const std::vector<letters::LetterInput> in = inputs();
  return in;
}

// A store with 10,000 customers with one ntp-monitor case each (one evidence row), as ingest leaves it.
void fill_store(const std::filesystem::path& dir, const config::Config& cfg, core::Timestamp now) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto st = store::Store::open(cfg);
  auto tx = st->transaction();
  cases::CaseBook book(*st, cfg);
  const auto rep = st->add_report("bench", "bench.csv", now);
  for (int i = 0; i < kCustomers; ++i) {
    const std::string id = fmt::format("K-{}", 100000 + i);
    st->upsert_customer({id,
                         fmt::format("Kunde {}", i),
                         {fmt::format("noc{}@example.org", i)},
                         i % 2 ? "en" : "de",
                         "Europe/Berlin",
                         {}});
    core::Event e;
    e.set_classification(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"));
    e.set_source_ip(*core::IpAddress::parse(address(i)));
    e.set_source_port(123);
    e.set_time_source(*core::Timestamp::parse("2026-11-27 02:14:09"));
    e.set_severity(core::Severity::kHigh);
    e.set("feed.provider", "Shadowserver");
    e.set("feed.name", "NTP-Monitor");
    e.set("feed.code", "scan_ntpmonitor");
    e.raw = fmt::format("{}\n\"2026-11-27 02:14:09\",{},udp,123,,100,48200,64500,DE,,,0,0,,548.4", kHeader, address(i));
    const auto case_id = book.case_for(id, e, now);
    const auto t = *e.time_source();
    if (st->add_event(rep.id, e, e.id(), e.to_json(), t, id, case_id)) book.add_event(case_id, e, t, now);
  }
  book.flush();
  tx.commit();
}

// Directories removed when the benchmark ends, not after their stage: on ext4 without a journal a
// file created soon after many were deleted nearby costs up to ~0.7 ms of kernel time (the inode
// allocator steps over recently deleted inodes one by one), which would be charged to the next stage.
void remove_at_exit(const std::filesystem::path& dir) {
  static std::vector<std::filesystem::path> dirs;
  static const bool registered = [] {
    return std::atexit([] {
             for (const auto& d : dirs) std::filesystem::remove_all(d);
           }) == 0;
  }();
  (void)registered;
  dirs.push_back(dir);
}

std::size_t files_in(const std::filesystem::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

// The whole `notify` in this process, as `klartext notify` runs it: opens the SQLite store, reads the
// due cases and their evidence, renders, writes the outbox with the default crash safety (letters on
// disk before they are recorded) and records every letter, then prints the summary. memfs:0 puts store
// and outbox in the temporary directory (TMPDIR, else /tmp: the disk file system); memfs:1 in /dev/shm,
// klartext's own cost without the disk file system's.
// The notify stages run first and leave their files until the end (see remove_at_exit).
void BM_NotifyFromStore(benchmark::State& state) {
  reset_peak_rss();
  StageClock clock;
  const auto dir = bench_dir(state.range(0) != 0, "klartext-notify-bench-");
  if (dir.empty()) {
    state.SkipWithError("no /dev/shm");
    return;
  }
  config::Config cfg;
  cfg.store_path = (dir / "k.db").string();
  cfg.outbox_dir = (dir / "outbox").string();
  const auto now = *core::Timestamp::parse("2026-11-28 06:00:00");
  for (auto _ : state) {
    state.PauseTiming();
    fill_store(dir, cfg, now);
    notify::Options opt;
    opt.now = now;
    std::ostringstream summary;
    state.ResumeTiming();
    clock.start();
    auto st = store::Store::open(cfg);
    const notify::Result r = notify::run(*st, cfg, opt);
    notify::print_summary(r, summary, false);
    st.reset();
    clock.stop();
    if (r.letters.size() != static_cast<std::size_t>(kCustomers) ||
        files_in(dir / "outbox" / "new") != static_cast<std::size_t>(kCustomers)) {
      state.SkipWithError("not every customer got a letter");
    }
  }
  remove_at_exit(dir);
  clock.report(state, static_cast<double>(state.iterations()) * kCustomers);
}
BENCHMARK(BM_NotifyFromStore)->Apply(on_disk_and_in_memory)->Iterations(1);

// The klartext binary next to this benchmark's directory (build/release/klartext), or KLARTEXT_BINARY.
std::filesystem::path klartext_binary() {
  if (const char* b = std::getenv("KLARTEXT_BINARY")) return b;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path().parent_path() / "klartext";
}

// `klartext notify` itself as a child process in the temporary directory (its klartext.toml names the
// outbox; the summary goes to /dev/null): process start, configuration, store, letters, outbox, records.
// CPU time and peak RSS are the child's own (wait4).
void BM_NotifyCommand(benchmark::State& state) {
  const auto exe = klartext_binary();
  if (exe.empty() || ::access(exe.c_str(), X_OK) != 0) {
    state.SkipWithError("no klartext binary (set KLARTEXT_BINARY)");
    return;
  }
  const auto dir = bench_dir(false, "klartext-notify-command-bench-");
  config::Config cfg;
  cfg.store_path = (dir / "k.db").string();
  cfg.outbox_dir = (dir / "outbox").string();
  const auto now = *core::Timestamp::parse("2026-11-28 06:00:00");
  double cpu = 0, sys = 0, wall = 0, rss = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fill_store(dir, cfg, now);
    std::ofstream(dir / "klartext.toml") << "[delivery]\noutbox = \"outbox\"\n[store]\npath = \"k.db\"\n";
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(126);
      const int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, 1);
      ::execl(exe.c_str(), exe.c_str(), "notify", "--now", "2026-11-28 06:00:00", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    rusage ru{};
    if (pid < 0 || ::wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("klartext notify failed");
      break;
    }
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double s = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
    cpu += static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6 + s;
    sys += s;
    rss = std::max(rss, static_cast<double>(ru.ru_maxrss) / 1024.0);
    if (files_in(dir / "outbox" / "new") != static_cast<std::size_t>(kCustomers)) {
      state.SkipWithError("not every customer got a letter");
    }
  }
  remove_at_exit(dir);
  const double letters = static_cast<double>(state.iterations()) * kCustomers;
  state.counters["letters_per_s_cpu"] = cpu > 0 ? letters / cpu : 0;
  state.counters["letters_per_s_wall"] = wall > 0 ? letters / wall : 0;
  state.counters["sys_pct"] = cpu > 0 ? 100 * sys / cpu : 0;
  state.counters["peak_rss_MiB"] = rss;
}
BENCHMARK(BM_NotifyCommand)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

// Each thread has its own Renderer (not thread-safe) and writes every customer's letter; the wall rate
// counts all threads' letters, the CPU rate is per core.
void BM_RenderAndMime(benchmark::State& state) {
  if (state.thread_index() == 0) reset_peak_rss();
  const auto& in = shared_inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  const auto now = core::Timestamp::now();
  std::size_t bytes = 0;
  StageClock clock(RUSAGE_THREAD);
  for (auto _ : state) {
    clock.start();
    for (const auto& input : in) {
      const letters::Letter l = renderer.render(input);
      const std::string mime = delivery::build_mime(l, {}, now, delivery::make_message_id("abuse@example.org", now));
      bytes += mime.size();
      benchmark::DoNotOptimize(mime.data());
    }
    clock.stop();
  }
  clock.report(state, static_cast<double>(state.iterations()) * kCustomers);
  state.counters["avg_mail_bytes"] =
      benchmark::Counter(static_cast<double>(bytes) / (static_cast<double>(state.iterations()) * kCustomers),
                         benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_RenderAndMime)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime()->Threads(1)->Threads(2);

// The two halves apart: Mustache rendering, and GMime building of already rendered letters.
void BM_RenderOnly(benchmark::State& state) {
  reset_peak_rss();
  const auto in = inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  StageClock clock;
  for (auto _ : state) {
    clock.start();
    for (const auto& input : in) benchmark::DoNotOptimize(renderer.render(input).body.size());
    clock.stop();
  }
  clock.report(state, static_cast<double>(state.iterations()) * kCustomers);
}
BENCHMARK(BM_RenderOnly)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_MimeOnly(benchmark::State& state) {
  reset_peak_rss();
  const auto in = inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  std::vector<letters::Letter> rendered;
  for (const auto& input : in) rendered.push_back(renderer.render(input));
  const auto now = core::Timestamp::now();
  StageClock clock;
  for (auto _ : state) {
    clock.start();
    for (const auto& l : rendered) benchmark::DoNotOptimize(delivery::build_mime(l, {}, now, "x@example.org").size());
    clock.stop();
  }
  clock.report(state, static_cast<double>(state.iterations()) * kCustomers);
}
BENCHMARK(BM_MimeOnly)->Unit(benchmark::kMillisecond)->Iterations(2);

// Delivers a stage's letters into a fresh Maildir per iteration; only the delivery is timed.
template <class Fn>
void maildir_stage(benchmark::State& state, const std::filesystem::path& dir, Fn&& deliver_all) {
  StageClock clock;
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto fresh = dir / std::to_string(n++);
    std::filesystem::remove_all(fresh);
    remove_at_exit(fresh);
    delivery::Maildir md(fresh, /*sync=*/false);
    state.ResumeTiming();
    clock.start();
    deliver_all(md);
    clock.stop();
  }
  remove_at_exit(dir);
  clock.report(state, static_cast<double>(state.iterations()) * kCustomers);
}

// The file system's share: delivering 10,000 letters of the usual size (7 KiB) into a Maildir.
void BM_MaildirOnly(benchmark::State& state) {
  reset_peak_rss();
  const auto dir = bench_dir(state.range(0) != 0, "klartext-maildir-bench-");
  if (dir.empty()) {
    state.SkipWithError("no /dev/shm");
    return;
  }
  const std::string mail(7200, 'x');
  maildir_stage(state, dir, [&](delivery::Maildir& md) {
    for (int i = 0; i < kCustomers; ++i) md.deliver(mail);
  });
}
BENCHMARK(BM_MaildirOnly)->Apply(on_disk_and_in_memory)->Iterations(2);

void BM_RenderMimeMaildir(benchmark::State& state) {
  reset_peak_rss();
  const auto in = inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  const auto now = core::Timestamp::now();
  maildir_stage(state, bench_dir(false, "klartext-letters-bench-"), [&](delivery::Maildir& md) {
    for (const auto& input : in) {
      const letters::Letter l = renderer.render(input);
      md.deliver(delivery::build_mime(l, {}, now, delivery::make_message_id("abuse@example.org", now)));
    }
  });
}
BENCHMARK(BM_RenderMimeMaildir)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

}  // namespace
