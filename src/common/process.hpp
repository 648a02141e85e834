// Runs external programs (initdb, pg_ctl, pg_dump) without a shell.
#pragma once

#include <string>
#include <vector>

namespace tradesphere::common {

struct ProcessResult {
  int exit_code = -1;  // -1 when the program could not be started or was killed
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (searched in PATH) with the given arguments and waits for it.
// Output goes to a temporary file rather than a pipe, so daemons that inherit
// the descriptors (pg_ctl start) cannot keep the caller waiting.
ProcessResult run_process(const std::vector<std::string>& argv);

// Same as run_process, but as the given OS user when the caller is root
// (via runuser); unchanged otherwise.
ProcessResult run_process_as(const std::string& user, const std::vector<std::string>& argv);

bool running_as_root();

}  // namespace tradesphere::common
