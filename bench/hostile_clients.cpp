// tradesphere_hostile: ordinary requests while thousands of connections sit idle
// or trickle their header a byte at a time (issue 14's slow-client target).
//
//   tradesphere_hostile --port P --token T [--idle 10000] [--trickle 1000]
//                       [--seconds 30] [--clients 4] [--server-pid PID]
//
// Opens --idle keep-alive connections (each sends one GET /healthz, reads the
// answer, then stays silent), --trickle connections that send a request head one
// byte per second (reopened when the server closes them), then --clients threads
// send GET /healthz and GET /v1/customers?limit=100 alternately on keep-alive
// connections for --seconds. Prints p50/p99/max per request type, errors, how
// many idle connections the server kept, and the server's VmRSS (max, sampled
// every 100 ms) when --server-pid is given. Raw POSIX sockets: 11,000 client
// sockets in one process, polled without a thread each.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>

namespace {

using Clock = std::chrono::steady_clock;

int open_socket(int port, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  if (nonblocking) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// True while the peer has not closed (non-blocking peek).
bool still_open(int fd) {
  char c;
  const auto n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ordinary requests while many connections idle or trickle"};
  int port = 8080, idle = 10000, trickle = 1000, seconds = 30, clients = 4, server_pid = 0;
  std::string token;
  app.add_option("--port", port);
  app.add_option("--token", token)->required();
  app.add_option("--idle", idle);
  app.add_option("--trickle", trickle);
  app.add_option("--seconds", seconds);
  app.add_option("--clients", clients);
  app.add_option("--server-pid", server_pid);
  CLI11_PARSE(app, argc, argv);

  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);

  const long rss_start = server_pid ? rss_kb(server_pid) : 0;
  std::atomic<long> rss_max{rss_start};
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done && server_pid) {
      rss_max = std::max(rss_max.load(), rss_kb(server_pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  // Idle keep-alive connections: one request each, answer read, then silence.
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n";
  std::vector<int> idle_fds;
  int idle_failed = 0;
  const auto opening = Clock::now();
  for (int i = 0; i < idle; ++i) {
    const int fd = open_socket(port, false);
    if (fd < 0 || ::send(fd, healthz.data(), healthz.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(healthz.size())) {
      ++idle_failed;
      if (fd >= 0) ::close(fd);
      continue;
    }
    char buf[512];
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0 || ::recv(fd, buf, sizeof buf, 0) <= 0 || std::strncmp(buf, "HTTP/1.1 200", 12) != 0) {
      ++idle_failed;
      ::close(fd);
      continue;
    }
    idle_fds.push_back(fd);
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - opening).count();

  // Trickling connections: a byte of a request head per second each.
  const std::string head = "GET /v1/customers HTTP/1.1\r\nHost: b\r\nX-Slow: " + std::string(200, 'x') + "\r\n\r\n";
  struct Trickle {
    int fd = -1;
    std::size_t sent = 0;
  };
  std::vector<Trickle> trickles(static_cast<std::size_t>(trickle));
  std::atomic<long> trickle_reopened{0};
  std::thread trickler([&] {
    for (auto& t : trickles) t.fd = open_socket(port, true);
    while (!done) {
      for (auto& t : trickles) {
        if (t.fd >= 0 && ::send(t.fd, head.data() + (t.sent % head.size()), 1, MSG_NOSIGNAL) == 1) {
          ++t.sent;
          continue;
        }
        if (t.fd >= 0) ::close(t.fd);
        t.fd = open_socket(port, true);  // closed by the server's header timeout: come back
        t.sent = 0;
        ++trickle_reopened;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    for (auto& t : trickles) {
      if (t.fd >= 0) ::close(t.fd);
    }
  });

  // The ordinary clients.
  std::mutex mutex;
  std::vector<double> health_ms, list_ms;
  long errors = 0;
  std::vector<std::thread> workers;
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  for (int c = 0; c < clients; ++c) {
    workers.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_read_timeout(30, 0);
      httplib::Headers auth = {{"Authorization", "Bearer " + token}};
      std::vector<double> h, l;
      long errs = 0;
      for (int i = c; Clock::now() < until; ++i) {
        const bool list = i % 2 == 1;
        const auto t0 = Clock::now();
        auto r = list ? client.Get("/v1/customers?limit=100", auth) : client.Get("/healthz");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r || r->status != 200) ++errs;
        (list ? l : h).push_back(ms);
      }
      std::lock_guard lock(mutex);
      health_ms.insert(health_ms.end(), h.begin(), h.end());
      list_ms.insert(list_ms.end(), l.begin(), l.end());
      errors += errs;
    });
  }
  for (auto& w : workers) w.join();
  int idle_kept = 0;
  for (int fd : idle_fds) idle_kept += still_open(fd) ? 1 : 0;
  done = true;
  trickler.join();
  sampler.join();
  for (int fd : idle_fds) ::close(fd);

  std::printf("idle connections: %d opened (%d failed) in %.1f s, %d still open after the run\n",
              static_cast<int>(idle_fds.size()), idle_failed, open_s, idle_kept);
  std::printf("trickling connections: %d, reopened %ld times after the server closed them\n", trickle,
              trickle_reopened.load());
  std::printf("%-26s %8s %8s %8s %8s\n", "request", "count", "p50 ms", "p99 ms", "max ms");
  std::printf("%-26s %8zu %8.2f %8.2f %8.2f\n", "GET /healthz", health_ms.size(), percentile(health_ms, 50),
              percentile(health_ms, 99), percentile(health_ms, 100));
  std::printf("%-26s %8zu %8.2f %8.2f %8.2f\n", "GET /v1/customers?limit=100", list_ms.size(), percentile(list_ms, 50),
              percentile(list_ms, 99), percentile(list_ms, 100));
  std::printf("errors: %ld\n", errors);
  if (server_pid) std::printf("server VmRSS: %.1f MB at start, %.1f MB max\n", rss_start / 1024.0, rss_max / 1024.0);
  return errors == 0 ? 0 : 1;
}
