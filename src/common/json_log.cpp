#include "common/json_log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>
#include <utility>

#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::common {

namespace {

thread_local LogContext t_context;

// The process logger. Replaced atomically by init_logging; log() takes a copy
// of the shared_ptr so a concurrent re-init cannot free it mid-write.
std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink) {
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("tradesphere_json", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);  // filtering happens in log() via g_level
  return logger;
}

std::atomic<std::shared_ptr<spdlog::logger>>& logger_slot() {
  static std::atomic<std::shared_ptr<spdlog::logger>> slot{make_logger(nullptr)};
  return slot;
}

std::atomic<int> g_level{spdlog::level::info};

constexpr std::array<std::string_view, 2> kEmailKeys{"email", "customer_email"};
constexpr std::array<std::string_view, 2> kPhoneKeys{"phone", "customer_phone"};

bool one_of(const auto& keys, std::string_view key) {
  for (auto k : keys) {
    if (k == key) return true;
  }
  return false;
}

nlohmann::json mask_value(const nlohmann::json& v, bool email) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    return email ? domain::mask_email(s) : domain::mask_phone(s);
  }
  if (v.is_number()) {
    const std::string s = v.dump();
    return email ? domain::mask_email(s) : domain::mask_phone(s);
  }
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : v) out.push_back(mask_value(item, email));
    return out;
  }
  if (v.is_null()) return v;
  return "***";  // objects, booleans: nothing useful to keep
}

std::string dump(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_member(std::string& out, std::string_view key, const nlohmann::json& value) {
  out.push_back(',');
  out += dump(nlohmann::json(key));
  out.push_back(':');
  out += dump(value);
}

}  // namespace

// ---- context --------------------------------------------------------------

const LogContext& current_log_context() noexcept { return t_context; }

ScopedLogContext::ScopedLogContext(std::string correlation_id, std::string company_id)
    : previous_(std::exchange(t_context, LogContext{std::move(correlation_id), std::move(company_id)})) {}

ScopedLogContext::ScopedLogContext(const domain::RequestContext& ctx)
    : ScopedLogContext(ctx.correlation_id, ctx.company_id) {}

ScopedLogContext::~ScopedLogContext() { t_context = std::move(previous_); }

// ---- levels ---------------------------------------------------------------

spdlog::level::level_enum parse_log_level(std::string_view text) {
  if (text == "trace") return spdlog::level::trace;
  if (text == "debug") return spdlog::level::debug;
  if (text == "info") return spdlog::level::info;
  if (text == "warn") return spdlog::level::warn;
  if (text == "error") return spdlog::level::err;
  if (text == "off") return spdlog::level::off;
  throw domain::ValidationError("log_level", "must be one of trace, debug, info, warn, error, off");
}

const char* level_name(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    case spdlog::level::off: return "off";
    default: return "info";
  }
}

void init_logging(const std::string& level, spdlog::sink_ptr sink) {
  const auto lvl = parse_log_level(level);
  logger_slot().store(make_logger(std::move(sink)));
  g_level.store(lvl, std::memory_order_relaxed);
}

bool log_enabled(spdlog::level::level_enum level) noexcept {
  const int min = g_level.load(std::memory_order_relaxed);
  return min != spdlog::level::off && level != spdlog::level::off && static_cast<int>(level) >= min;
}

void log(spdlog::level::level_enum level, std::string_view event, nlohmann::json fields) {
  if (!log_enabled(level)) return;
  const std::string line = format_log_line(std::chrono::system_clock::now(), level, event, fields, t_context);
  const auto logger = logger_slot().load();
  logger->log(level, "{}", line);
}

// ---- rendering ------------------------------------------------------------

std::string format_log_timestamp(std::chrono::system_clock::time_point ts) {
  const auto ms_total = std::chrono::floor<std::chrono::milliseconds>(ts.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms_total / 1000);
  auto ms = static_cast<int>(ms_total % 1000);
  if (ms < 0) {  // before 1970: floor, not truncate
    ms += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

nlohmann::json mask_sensitive_fields(const nlohmann::json& fields) {
  if (fields.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : fields) out.push_back(mask_sensitive_fields(item));
    return out;
  }
  if (!fields.is_object()) return fields;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : fields.items()) {
    if (one_of(kEmailKeys, key)) out[key] = mask_value(value, true);
    else if (one_of(kPhoneKeys, key)) out[key] = mask_value(value, false);
    else out[key] = mask_sensitive_fields(value);
  }
  return out;
}

std::string format_log_line(std::chrono::system_clock::time_point ts, spdlog::level::level_enum level,
                            std::string_view event, const nlohmann::json& fields, const LogContext& ctx) {
  const bool mask = level >= spdlog::level::info;
  std::string out = "{\"ts\":";
  out += dump(format_log_timestamp(ts));
  append_member(out, "level", level_name(level));
  append_member(out, "event", nlohmann::json(std::string(event)));

  const bool object = fields.is_object();
  const auto has = [&](const char* key) { return object && fields.contains(key); };
  if (!ctx.correlation_id.empty() && !has("correlation_id")) append_member(out, "correlation_id", ctx.correlation_id);
  if (!ctx.company_id.empty() && !has("company_id")) append_member(out, "company_id", ctx.company_id);

  if (object) {
    const nlohmann::json masked = mask ? mask_sensitive_fields(fields) : nlohmann::json();
    const nlohmann::json& src = mask ? masked : fields;
    for (const auto& [key, value] : src.items()) {
      if (key == "ts" || key == "level" || key == "event") append_member(out, "field_" + key, value);
      else append_member(out, key, value);
    }
  } else if (!fields.is_null()) {
    append_member(out, "data", mask ? mask_sensitive_fields(fields) : fields);
  }
  out.push_back('}');
  return out;
}

}  // namespace tradesphere::common
