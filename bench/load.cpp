// The concurrent load (see bench_common.hpp): `tradesphere serve` runs as a child process
// on the scale's database (DATABASE_URL / DATABASE_ADMIN_URL, TRADESPHERE_JWT_SECRET),
// cfg.load_clients threads with one keep-alive connection each send a mix of list,
// search and ingest requests for cfg.load_seconds, and the server's VmRSS is read from
// /proc/<pid>/status before, every 100 ms during (max) and after the load.
#include <arpa/inet.h>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <httplib.h>

#include "bench_common.hpp"
#include "domain/request_context.hpp"
#include "http/jwt.hpp"

namespace tradesphere::bench {

namespace {

constexpr int kServerThreads = 8;
constexpr int kListLimit = 100;
constexpr const char* kMix =
    "50 % GET /v1/customers?limit=100 (default sort), 30 % GET /v1/customers/search?limit=20&q=<4-letter prefix of a "
    "known name>, 20 % POST /v1/chat of one row (half known contacts, half new) into a scratch company; "
    "an answer counts as an error unless it is 200 with the expected items (list: min(100, active); search: >= 1; "
    "ingest: the row linked to a customer)";

std::string server_binary(const Config& cfg) {
  if (!cfg.server_binary.empty()) return cfg.server_binary;
#ifdef TS_SERVER_BINARY
  if (std::filesystem::exists(TS_SERVER_BINARY)) return TS_SERVER_BINARY;
#endif
  // build-dir/bench/tradesphere_bench -> build-dir/tradesphere
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "tradesphere").string();
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("could not find a free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 1500 ? all.substr(all.size() - 1500) : all;
}

// The child `tradesphere serve`; stopped with SIGTERM (SIGKILL after 15 s) when destroyed.
class ServerProcess {
 public:
  ServerProcess(const Config& cfg, const ScaleDb& s, const std::string& secret) {
    port_ = free_port();
    const auto dir = std::filesystem::temp_directory_path() / ("tradesphere-bench-serve-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    dir_ = dir.string();
    log_ = (dir / "serve.log").string();
    const std::string binary = server_binary(cfg);
    if (!std::filesystem::exists(binary)) throw std::runtime_error("server binary not found: " + binary);
    std::vector<std::string> args = {binary,   "--data-dir", dir_,  "--log-level", "warn",
                                     "serve",  "--host",     "127.0.0.1", "--port", std::to_string(port_),
                                     "--threads", std::to_string(kServerThreads)};
    // Everything the child needs is prepared here: between fork and exec only
    // async-signal-safe calls (this process has threads).
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      const auto name = kv.substr(0, kv.find('='));
      if (name == "DATABASE_URL" || name == "DATABASE_ADMIN_URL" || name == "TRADESPHERE_JWT_SECRET" ||
          name == "TRADESPHERE_PORT" || name == "TRADESPHERE_HOST" || name == "TRADESPHERE_HTTP_THREADS") {
        continue;
      }
      env.push_back(kv);
    }
    env.push_back("DATABASE_URL=" + s.app_url);
    env.push_back("DATABASE_ADMIN_URL=" + s.owner_url);
    env.push_back("TRADESPHERE_JWT_SECRET=" + secret);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) throw std::runtime_error("cannot write " + log_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(log_fd, 1);  // dup2 clears FD_CLOEXEC on the copies
      ::dup2(log_fd, 2);
      ::execve(binary.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid_ < 0) throw std::runtime_error("fork failed");
    // Ready when /healthz answers.
    httplib::Client probe("127.0.0.1", port_);
    probe.set_connection_timeout(1, 0);
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("tradesphere serve exited during start-up: " + tail_of(log_));
      }
      if (auto res = probe.Get("/healthz"); res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("tradesphere serve did not answer /healthz within 30 s: " + tail_of(log_));
  }
  ~ServerProcess() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& log() const { return log_; }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 150; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_, log_;
};

struct TypeStats {
  Stats stats;
  long long count = 0, errors = 0;
};

}  // namespace

json run_load(const Config& cfg, const ScaleDb& s, const std::vector<SampleRow>& sample, long long active,
              const ScratchCompany& scratch, std::vector<Result>& out) {
  const std::string secret = "bench-load-secret-" + std::to_string(::getpid());
  auto token_for = [&](const std::string& company) {
    return "Bearer " + http::issue_token(secret, http::TokenClaims{"bench-load", company, domain::Role::kAdmin,
                                                                    std::chrono::system_clock::now() + std::chrono::hours(3)});
  };
  const std::string main_token = token_for(s.company_id);
  const std::string scratch_token = token_for(scratch.id());
  const auto known = scratch.customers();
  std::vector<std::string> prefixes;
  for (const auto& row : sample) {
    if (row[1].size() >= 4) prefixes.push_back(row[1].substr(0, 4));
  }
  if (prefixes.empty()) prefixes.push_back("a");
  const long long list_expected = std::min<long long>(kListLimit, active);

  std::fprintf(stderr, "load: %d clients, %.0f s, server as a separate process...\n", cfg.load_clients, cfg.load_seconds);
  ServerProcess server(cfg, s, secret);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long rss_before = rss_kb(server.pid());

  std::atomic<bool> stop{false};
  std::atomic<long> rss_max{rss_before};
  std::thread sampler([&] {
    while (!stop) {
      const long v = rss_kb(server.pid());
      if (v > rss_max) rss_max = v;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  const std::vector<std::string> types = {"list", "search", "ingest"};
  std::vector<std::map<std::string, TypeStats>> per_thread(static_cast<std::size_t>(cfg.load_clients));
  std::mutex error_mutex;
  std::string first_error;
  auto note_error = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (first_error.empty()) first_error = what.substr(0, 400);
  };
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::milliseconds(static_cast<long long>(cfg.load_seconds * 1000));
  std::vector<std::thread> clients;
  for (int t = 0; t < cfg.load_clients; ++t) {
    clients.emplace_back([&, t] {
      auto& mine = per_thread[static_cast<std::size_t>(t)];
      httplib::Client c("127.0.0.1", server.port());
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(120, 0);
      std::mt19937_64 rng(cfg.seed * 7919ULL + static_cast<std::uint64_t>(t));
      std::uniform_int_distribution<int> pick(0, 99);
      for (long long i = 0; Clock::now() < deadline; ++i) {
        const int p = pick(rng);
        const std::string type = p < 50 ? "list" : p < 80 ? "search" : "ingest";
        auto& ts = mine[type];
        bool ok = false;
        std::string what;
        const auto t0 = Clock::now();
        auto send = [&]() -> httplib::Result {
          if (type == "list") {
            return c.Get("/v1/customers?limit=" + std::to_string(kListLimit), httplib::Headers{{"Authorization", main_token}});
          } else if (type == "search") {
            const auto& q = prefixes[static_cast<std::size_t>(rng() % prefixes.size())];
            return c.Get("/v1/customers/search?limit=20&q=" + url_encode(q), httplib::Headers{{"Authorization", main_token}});
          } else {
            const long long k = i * cfg.load_clients + t;
            json item{{"session_id", "bench-load-" + std::to_string(t) + "-" + std::to_string(i)},
                      {"tech_id", scratch.tech_id()},
                      {"user_message", "Where is my order?"},
                      {"ai_response", "Let me check."}};
            if (k % 2 == 0 && !known.empty()) {
              const auto& who = known[static_cast<std::size_t>(k / 2) % known.size()];
              item["customer_email"] = who[2].empty() ? "known-load" + std::to_string(k) + "@bench.example" : who[2];
              if (!who[1].empty()) item["customer_name"] = who[1];
            } else {
              item["customer_name"] = "Load Person " + std::to_string(k);
              item["customer_email"] = "load" + std::to_string(k) + "@bench.example";
            }
            return c.Post("/v1/chat", httplib::Headers{{"Authorization", scratch_token}}, item.dump(), "application/json");
          }
        };
        const auto res = send();
        const double ms = ms_since(t0);
        if (!res) {
          what = type + ": no answer (" + httplib::to_string(res.error()) + ")";
        } else if (res->status != 200) {
          what = type + ": HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 300);
        } else {
          auto body = json::parse(res->body, nullptr, false);
          const long long items = body.is_object() && body.contains("items") && body["items"].is_array()
                                      ? static_cast<long long>(body["items"].size()) : -1;
          if (type == "list") {
            ok = items == list_expected;
          } else if (type == "search") {
            ok = items >= 1;
          } else {
            ok = items == 1 && body["items"][0].contains("customer_id") && !body["items"][0]["customer_id"].is_null();
          }
          if (!ok) what = type + ": unexpected answer " + res->body.substr(0, 300);
        }
        ++ts.count;
        ts.stats.ms.push_back(ms);
        if (!ok) {
          ++ts.errors;
          note_error(what);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  stop = true;
  sampler.join();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long rss_after = rss_kb(server.pid());
  const bool server_alive = ::kill(server.pid(), 0) == 0 && rss_after > 0;
  server.stop();

  json summary{{"clients", cfg.load_clients},
               {"seconds", secs},
               {"server_threads", kServerThreads},
               {"server", "tradesphere serve (separate process)"},
               {"mix", kMix},
               {"rss_kb", {{"before", rss_before}, {"max", rss_max.load()}, {"after", rss_after}}},
               {"by_type", json::object()}};
  long long total = 0, errors = 0;
  for (const auto& type : types) {
    TypeStats all;
    for (auto& m : per_thread) {
      auto it = m.find(type);
      if (it == m.end()) continue;
      all.count += it->second.count;
      all.errors += it->second.errors;
      all.stats.ms.insert(all.stats.ms.end(), it->second.stats.ms.begin(), it->second.stats.ms.end());
    }
    total += all.count;
    errors += all.errors;
    summary["by_type"][type] = {{"count", all.count},
                                {"errors", all.errors},
                                {"requests_per_second", static_cast<double>(all.count) / secs},
                                {"p50_ms", all.stats.pct(50)},
                                {"p95_ms", all.stats.pct(95)},
                                {"p99_ms", all.stats.pct(99)}};
    // rows = answers that were right; expected = requests sent (any error fails the check),
    // at least one request of each type must have run
    Result r = mk("load_" + type, "http_concurrent", std::max<long long>(all.count, 1));
    r.stats = std::move(all.stats);
    r.rows = all.count - all.errors;
    r.rows_per_second = static_cast<double>(all.count) / secs;
    r.note = "during the " + fmt(cfg.load_seconds, 0) + " s load (" + std::to_string(cfg.load_clients) +
             " clients); rows = right answers of " + std::to_string(all.count) + " requests, rows/s = requests/s";
    out.push_back(std::move(r));
  }
  summary["requests"] = total;
  summary["errors"] = errors;
  summary["requests_per_second"] = static_cast<double>(total) / secs;
  if (!first_error.empty()) summary["first_error"] = first_error;
  if (!server_alive) {
    summary["server_died"] = true;
    Result dead = mk("load_server_alive", "http_concurrent", 1);
    dead.rows = 0;
    dead.note = "the server process was gone after the load: " + tail_of(server.log());
    out.push_back(dead);
  }
  std::fprintf(stderr, "load: %lld requests (%.1f/s), %lld errors, server RSS %ld -> max %ld -> %ld kB\n", total,
               static_cast<double>(total) / secs, errors, rss_before, rss_max.load(), rss_after);
  return summary;
}

int load_only(const Config& cfg, const std::string& app_url, const std::string& owner_url,
              const std::string& superuser_url, const std::string& company) {
  ScaleDb s;
  s.name = "existing";
  s.app_url = app_url;
  s.owner_url = owner_url;
  s.superuser_url = superuser_url;
  s.company_id = company;
  long long active = 0;
  std::vector<SampleRow> sample;
  {
    pqxx::connection owner(owner_url);
    pqxx::read_transaction tx(owner);
    active = tx.exec_params1("SELECT count(*) FROM customers WHERE company_id = $1::uuid AND status = 'active'",
                             company)[0].as<long long>();
    // the suite's sample: the company's first 1000 customers with a name, email and phone
    for (const auto& row : tx.exec_params(
             "SELECT id::text, name, email, phone FROM customers WHERE company_id = $1::uuid AND status = 'active' "
             "AND email IS NOT NULL AND phone IS NOT NULL AND name IS NOT NULL ORDER BY created_at, id LIMIT 1000",
             company)) {
      sample.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                        row[3].as<std::string>()});
    }
  }
  ScratchCompany::remove_leftovers(s);
  ScratchCompany scratch(s, 200, 10, cfg.seed);
  std::vector<Result> out;
  const json summary = run_load(cfg, s, sample, active, scratch, out);
  std::printf("%s\n", summary.dump(2).c_str());
  bool ok = !summary.contains("server_died");
  for (const auto& r : out) {
    std::printf("%-12s requests %6zu  p50 %8.2f  p95 %8.2f  p99 %8.2f ms  right answers %lld\n", r.op.c_str(),
                r.stats.ms.size(), r.stats.pct(50), r.stats.pct(95), r.stats.pct(99), r.rows);
    if (!r.ok()) ok = false;
  }
  return ok ? 0 : 2;
}

}  // namespace tradesphere::bench
