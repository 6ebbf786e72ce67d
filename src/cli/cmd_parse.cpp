// `klartext parse`: reads inputs and writes normalized events (JSON Lines) and parse issues.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "formats/format.hpp"
#include "intake/sources.hpp"

namespace klartext::cli {
namespace {

// Buffered writer for JSON Lines on a FILE*.
class LineWriter {
 public:
  explicit LineWriter(std::FILE* f) : f_(f) { buf_.reserve(1 << 20); }
  ~LineWriter() { flush(); }
  std::string& buffer() { return buf_; }
  void end_line() {
    buf_.push_back('\n');
    if (buf_.size() >= (1 << 20)) flush();
  }
  void flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), f_);
    buf_.clear();
    std::fflush(f_);
  }

 private:
  std::FILE* f_;
  std::string buf_;
};

class JsonLinesSink : public formats::Sink {
 public:
  JsonLinesSink(LineWriter& events, LineWriter& issues) : events_(events), issues_(issues) {}
  void on_event(const core::Event& e) override {
    e.append_json(events_.buffer());
    events_.end_line();
  }
  std::string* event_json_buffer() override { return &events_.buffer(); }
  void on_event_json(const core::Classification&) override { events_.end_line(); }
  void on_issue(const formats::ParseIssue& i) override {
    issues_.buffer() += i.to_json();
    issues_.end_line();
  }

 private:
  LineWriter& events_;
  LineWriter& issues_;
};

struct ParseArgs {
  intake::SourceSpec sources;
  std::string issues_path;
  bool summary = false;
  formats::ParseOptions options;
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

void run_parse(const ParseArgs& args) {
  // An unreadable --schema would otherwise surface as one parser failure per input.
  if (!args.options.schema_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(args.options.schema_path, ec) ||
        !std::ifstream(args.options.schema_path).good()) {
      throw CommandFailed("cannot read --schema file '" + args.options.schema_path + "'", 2);
    }
  }
  std::unique_ptr<std::FILE, FileCloser> issues_file;
  std::FILE* issues_out = stderr;
  if (!args.issues_path.empty() && args.issues_path != "-") {
    issues_file.reset(std::fopen(args.issues_path.c_str(), "w"));
    if (!issues_file) throw CommandFailed("cannot write issues file " + args.issues_path);
    issues_out = issues_file.get();
  }
  LineWriter events(stdout);
  LineWriter issues(issues_out);
  JsonLinesSink sink(events, issues);

  std::vector<formats::InputSummary> summaries;
  auto stats = intake::for_each_input(
      args.sources,
      [&](const formats::Input& in) { summaries.push_back(formats::parse_input(in, sink, args.options)); },
      [&](const std::string& where, const std::string& why) {
        std::cerr << "klartext: cannot read " << where << ": " << why << "\n";
      });
  std::size_t total = stats.inputs + stats.unreadable;
  events.flush();
  issues.flush();
  if (args.summary) {
    for (const auto& s : summaries) std::cerr << s.to_json() << "\n";
  }
  if (total == 0) throw CommandFailed("no input given", 2);
  if (stats.inputs == 0) throw CommandFailed("no input could be read", 2);
}

}  // namespace

void register_parse(CLI::App& app) {
  auto args = std::make_shared<ParseArgs>();
  auto* cmd = app.add_subcommand("parse", "Parse reports and print normalized events as JSON Lines");
  cmd->add_option("inputs", args->sources.paths, "files or directories to read ('-' for stdin)");
  cmd->add_option("--maildir", args->sources.maildirs, "read every mail of a Maildir (new/ and cur/)");
  cmd->add_option("--mbox", args->sources.mboxes, "read every mail of an mbox file");
  cmd->add_option("--issues", args->issues_path, "write parse issues (JSON Lines) here instead of stderr");
  cmd->add_flag("--summary", args->summary, "print one JSON line per input (format, kind, counts) to stderr");
  cmd->add_option("--report-type", args->options.report_type,
                  "Shadowserver report type when the file name does not tell (e.g. scan_ntpmonitor)");
  cmd->add_option("--schema", args->options.schema_path,
                  "Shadowserver schema file (intelmq.json format) to use instead of the built-in one");
  cmd->callback([args] { run_parse(*args); });
}

}  // namespace klartext::cli
