// A throwaway PostgreSQL server for tests: initdb into a temp dir, Unix socket only (no TCP), removed at exit.
//
// One server per test process, started on first use. It runs as the calling user, or, when the tests
// run as root (PostgreSQL refuses to), as the unprivileged `postgres` system user (else `nobody`).
// The server gets SIGQUIT when the test process dies, so a crashed test leaves no server behind.
// ctest runs every test in its own process, so the initdb result is kept once per build directory
// (pg-test-template-<major>/ beside the klartext binary) and copied; initdb is 10x slower than the copy.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace klartext::testing {

class PgCluster {
 public:
  // The process's server, started on first call; nullptr with `why` set when the PostgreSQL server
  // binaries are not installed. Throws std::runtime_error when they are but the server won't start.
  static PgCluster* get(std::string& why) {
    static std::unique_ptr<PgCluster> cluster;
    static std::string missing;
    if (!cluster && missing.empty()) {
      auto bin = find_bin_dir();
      if (bin.empty()) {
        missing = "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb; install postgresql)";
      } else {
        cluster.reset(new PgCluster(bin));
      }
    }
    why = missing;
    return cluster.get();
  }

  // Returns the libpq connection string of an empty database no earlier call returned.
  std::string create_database() {
    // The first test of the process gets the new cluster's empty `postgres` database (CREATE DATABASE
    // copies files and costs more than the test).
    if (databases_++ == 0) return dsn("postgres");
    const std::string name = "k" + std::to_string(databases_);
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(dsn("postgres").c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn.get()));
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn.get(), ("CREATE DATABASE " + name).c_str()),
                                                      &PQclear);
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) throw std::runtime_error(PQerrorMessage(conn.get()));
    return dsn(name);
  }

  std::string dsn(const std::string& database) const {
    return "host=" + dir_ + " port=" + std::to_string(kPort) + " user=klartext dbname=" + database;
  }

  ~PgCluster() {
    if (server_ > 0) {
      ::kill(server_, SIGINT);  // fast shutdown: disconnects clients, no checkpoint wait on a test cluster
      if (!wait_for(server_, std::chrono::seconds(20))) {
        ::kill(server_, SIGKILL);
        ::waitpid(server_, nullptr, 0);
      }
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

 private:
  static constexpr int kPort = 5432;  // only names the socket file; there is no TCP listener

  static std::string find_bin_dir() {
    if (const char* env = std::getenv("KLARTEXT_PG_BIN")) return env;
    std::string best;
    int best_version = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const auto bin = entry.path() / "bin";
      const int version = std::atoi(entry.path().filename().c_str());
      if (version > best_version && std::filesystem::exists(bin / "initdb") &&
          std::filesystem::exists(bin / "postgres")) {
        best = bin.string();
        best_version = version;
      }
    }
    return best;
  }

  explicit PgCluster(const std::string& bin) {
    // Short fixed prefix: the socket path must stay under the 107-byte sun_path limit. A roomy tmpfs
    // spares the disk (on a busy machine copying the data directory to disk took seconds).
    std::string tmpl = shm_has_room() ? "/dev/shm/klartext-pg-XXXXXX" : "/tmp/klartext-pg-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) pw = ::getpwnam("nobody");
      if (pw == nullptr) throw std::runtime_error("running as root and no unprivileged user for PostgreSQL");
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      if (::chown(dir_.c_str(), uid_, gid_) != 0) throw std::runtime_error("chown " + dir_ + " failed");
    }
    const std::string data = dir_ + "/data";
    const std::string log = dir_ + "/log";
    if (!copy_template(bin, data, log)) {
      std::error_code ec;
      std::filesystem::remove_all(data, ec);
      int rc = initdb(bin, data, log);
      if (rc != 0) throw std::runtime_error("initdb failed (exit " + std::to_string(rc) + "): " + tail(log));
    }
    server_ = run({bin + "/postgres",
                   "-D",
                   data,
                   "-k",
                   dir_,
                   "-p",
                   std::to_string(kPort),
                   "-c",
                   "listen_addresses=",
                   "-F",
                   "-c",
                   "full_page_writes=off",
                   "-c",
                   "synchronous_commit=off",
                   "-c",
                   "shared_buffers=16MB",
                   "-c",
                   "max_connections=20",
                   "-c",
                   "max_wal_size=256MB"},
                  log, /*wait=*/false);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (PQping(dsn("postgres").c_str()) != PQPING_OK) {
      int status = 0;
      if (::waitpid(server_, &status, WNOHANG) == server_) {
        server_ = -1;
        throw std::runtime_error("postgres exited at start: " + tail(log));
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("postgres did not start: " + tail(log));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static bool shm_has_room() {
    struct statvfs st {};
    return ::statvfs("/dev/shm", &st) == 0 && ::access("/dev/shm", W_OK) == 0 &&
           static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize) >= 1024.0 * 1024 * 1024;
  }

  int initdb(const std::string& bin, const std::string& data, const std::string& log) const {
    return run({bin + "/initdb", "-D", data, "-U", "klartext", "-A", "trust", "-E", "UTF8", "--locale=C", "-N",
                "--wal-segsize=1"},
               log,
               /*wait=*/true);
  }

  // Copies the build directory's initdb result to `data`, making it first (under a lock: tests run in
  // parallel). False when there is no build directory or it is not usable by the server user.
  bool copy_template(const std::string& bin, const std::string& data, const std::string& log) const {
#ifdef KLARTEXT_BINARY
    namespace fs = std::filesystem;
    const auto major = fs::path(bin).parent_path().filename().string();
    const auto tmpl = fs::path(KLARTEXT_BINARY).parent_path() / ("pg-test-template-" + major);
    const auto done = fs::path(tmpl.string() + ".ok");
    std::error_code ec;
    {
      struct Lock {  // the flock is released when the descriptor is closed
        int fd;
        ~Lock() {
          if (fd >= 0) ::close(fd);
        }
      } lock{::open((tmpl.string() + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
      if (lock.fd < 0 || ::flock(lock.fd, LOCK_EX) != 0) return false;
      if (!fs::exists(done, ec)) {
        fs::remove_all(tmpl, ec);
        if (!fs::create_directory(tmpl, ec)) return false;
        if (::geteuid() == 0 && ::chown(tmpl.c_str(), uid_, gid_) != 0) return false;
        if (initdb(bin, tmpl.string(), log) != 0) return false;
        std::ofstream(done) << bin << "\n";
      }
    }
    return run({"/bin/cp", "-a", tmpl.string(), data}, log, /*wait=*/true) == 0;
#else
    (void)bin;
    (void)data;
    (void)log;
    return false;
#endif
  }

  // Runs argv as the server user with output appended to `log`; waits and returns the exit code, or
  // returns the child's pid.
  int run(const std::vector<std::string>& args, const std::string& log, bool wait) const {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0)) {
        ::_exit(126);
      }
      // After setuid: a credential change clears the parent-death signal.
      ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (::getppid() != parent) ::_exit(125);
      if (::chdir(dir_.c_str()) != 0) ::_exit(126);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (!wait) return pid;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  static bool wait_for(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::string tail(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto s = ss.str();
    return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
  }

  std::string dir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t server_ = -1;
  int databases_ = 0;
};

}  // namespace klartext::testing
