// A plain TCP client for the http tier's transport tests: sends exactly the
// bytes given (partial headers, oversized heads, stalls) and reads what comes
// back, with a deadline. Blocking POSIX sockets; one per test object.
#pragma once

#include <chrono>
#include <string>

namespace tradesphere::testing {

class RawConnection {
 public:
  explicit RawConnection(int port);  // connects to 127.0.0.1:port (connected() tells)
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  RawConnection(RawConnection&& other) noexcept;

  bool connected() const { return fd_ >= 0; }
  // False when the peer has closed or reset the connection.
  bool send(const std::string& bytes);

  struct Read {
    std::string data;
    bool closed = false;  // the server closed (EOF or reset) before the deadline
  };
  // Reads until the server closes the connection or `deadline` passes.
  Read read_until_closed(std::chrono::milliseconds deadline);
  // Reads until `marker` was received (e.g. the end of a response), close, or the deadline.
  Read read_until(const std::string& marker, std::chrono::milliseconds deadline);

 private:
  int fd_ = -1;
};

// A port nothing listens on right now (bind to 0, read it, close).
int free_port();

}  // namespace tradesphere::testing
