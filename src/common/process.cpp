#include "common/process.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tradesphere::common {

bool running_as_root() { return ::geteuid() == 0; }

ProcessResult run_process(const std::vector<std::string>& argv) {
  ProcessResult result;
  if (argv.empty()) return result;
  char tmpl[] = "/tmp/tradesphere-proc-XXXXXX";
  int out_fd = ::mkstemp(tmpl);
  if (out_fd < 0) {
    result.output = "cannot create a temporary file for process output";
    return result;
  }
  ::fchmod(out_fd, 0644);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
    // Close every other descriptor so a daemonising child holds nothing of ours.
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "cannot execute %s\n", args[0]);
    ::_exit(127);
  }
  if (pid < 0) {
    ::close(out_fd);
    ::unlink(tmpl);
    result.output = "fork failed";
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  ::close(out_fd);
  std::ifstream in(tmpl);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  ::unlink(tmpl);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ProcessResult run_process_as(const std::string& user, const std::vector<std::string>& argv) {
  if (!running_as_root()) return run_process(argv);
  std::vector<std::string> wrapped = {"runuser", "-u", user, "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return run_process(wrapped);
}

}  // namespace tradesphere::common
