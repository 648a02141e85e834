// Structured logging: one JSON object per line on stderr, via spdlog (pattern
// "%v": we render the JSON ourselves in format_log_line).
//
//   common::init_logging("info");
//   common::ScopedLogContext scope(ctx);  // correlation_id + company_id on every line of this thread
//   common::log(spdlog::level::info, "customer.created",
//               {{"customer_id", id}, {"email", email}, {"duration_ms", 12}});
//   -> {"ts":"2026-01-02T03:04:05.123Z","level":"info","event":"customer.created",
//       "correlation_id":"…","company_id":"…","customer_id":"…","duration_ms":12,"email":"j***@example.com"}
//
// At info and above, values under the keys email, phone, customer_email and
// customer_phone (at any depth) are masked (domain::mask_email / mask_phone);
// at debug and trace they are written as given.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include "domain/request_context.hpp"

namespace tradesphere::common {

struct LogContext {
  std::string correlation_id;  // omitted from the line when empty
  std::string company_id;      // omitted from the line when empty
};

// The calling thread's context (empty when no ScopedLogContext is alive).
const LogContext& current_log_context() noexcept;

// Sets the thread's log context for its lifetime and restores the previous one
// on destruction (scopes nest). Not copyable or movable; keep it on the stack of
// the thread that handles the request.
class ScopedLogContext {
 public:
  ScopedLogContext(std::string correlation_id, std::string company_id);
  explicit ScopedLogContext(const domain::RequestContext& ctx);
  ~ScopedLogContext();
  ScopedLogContext(const ScopedLogContext&) = delete;
  ScopedLogContext& operator=(const ScopedLogContext&) = delete;

 private:
  LogContext previous_;
};

// trace|debug|info|warn|error|off; throws domain::ValidationError("log_level", ...).
spdlog::level::level_enum parse_log_level(std::string_view text);
// "trace", "debug", "info", "warn", "error", "critical", "off".
const char* level_name(spdlog::level::level_enum level) noexcept;

// (Re)configures the process logger: minimum level, and where lines go (stderr
// unless a sink is given, e.g. an ostream sink in tests). Safe to call while
// other threads log. Without a call, logging goes to stderr at info.
void init_logging(const std::string& level, spdlog::sink_ptr sink = nullptr);

// True when a line at this level would be written (check before building
// expensive fields).
bool log_enabled(spdlog::level::level_enum level) noexcept;

// Writes format_log_line(now, level, event, fields, current_log_context()) if enabled.
void log(spdlog::level::level_enum level, std::string_view event, nlohmann::json fields = nlohmann::json::object());

// Pure rendering of one line (no trailing newline). Key order: ts, level, event,
// correlation_id, company_id (from ctx, unless fields carry their own), then the
// fields in key order. A field named ts, level or event is renamed field_ts,
// field_level, field_event. A null `fields` adds nothing; a non-object is written
// under "data". Invalid UTF-8 in strings is replaced with U+FFFD.
std::string format_log_line(std::chrono::system_clock::time_point ts, spdlog::level::level_enum level,
                            std::string_view event, const nlohmann::json& fields, const LogContext& ctx);

// Copy of fields with email/phone values masked (recursively through objects and arrays).
nlohmann::json mask_sensitive_fields(const nlohmann::json& fields);

// "2026-01-02T03:04:05.123Z" (UTC, milliseconds).
std::string format_log_timestamp(std::chrono::system_clock::time_point ts);

}  // namespace tradesphere::common
