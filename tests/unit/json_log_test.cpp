#include "common/json_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include "domain/errors.hpp"

namespace tradesphere::common {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

// 2026-01-02T03:04:05.678Z
system_clock::time_point fixed_time() {
  return system_clock::time_point(std::chrono::milliseconds(1767323045678LL));
}

TEST(JsonLog, FormatsTimestampInUtcWithMilliseconds) {
  EXPECT_EQ(format_log_timestamp(fixed_time()), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(format_log_timestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_log_timestamp(system_clock::time_point(std::chrono::milliseconds(-1))),
            "1969-12-31T23:59:59.999Z");
}

TEST(JsonLog, LineHasFixedKeyOrderThenFields) {
  const std::string line = format_log_line(fixed_time(), spdlog::level::info, "customer.created",
                                           json{{"zeta", 1}, {"alpha", "a"}}, LogContext{"corr-1", "comp-1"});
  EXPECT_EQ(line,
            "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"level\":\"info\",\"event\":\"customer.created\","
            "\"correlation_id\":\"corr-1\",\"company_id\":\"comp-1\",\"alpha\":\"a\",\"zeta\":1}");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(json::accept(line));
}

TEST(JsonLog, OmitsEmptyContext) {
  const json j = json::parse(format_log_line(fixed_time(), spdlog::level::warn, "e", json::object(), LogContext{}));
  EXPECT_EQ(j, (json{{"ts", "2026-01-02T03:04:05.678Z"}, {"level", "warn"}, {"event", "e"}}));
}

TEST(JsonLog, LevelNamesAreShort) {
  auto level_of = [](spdlog::level::level_enum l) {
    return json::parse(format_log_line(fixed_time(), l, "e", nullptr, LogContext{}))["level"].get<std::string>();
  };
  EXPECT_EQ(level_of(spdlog::level::trace), "trace");
  EXPECT_EQ(level_of(spdlog::level::debug), "debug");
  EXPECT_EQ(level_of(spdlog::level::warn), "warn");
  EXPECT_EQ(level_of(spdlog::level::err), "error");
  EXPECT_EQ(level_of(spdlog::level::critical), "critical");
}

TEST(JsonLog, MasksEmailAndPhoneAtInfoAndAbove) {
  const json fields = {{"email", "john.doe@example.com"},
                       {"customer_email", "jane@example.org"},
                       {"phone", "+14155552671"},
                       {"customer_phone", "(415) 555-2671"},
                       {"nested", {{"email", "x.y@z.io"}, {"list", {{{"phone", "+442079460958"}}}}}},
                       {"emails", "not-masked@example.com"},  // only the exact keys are masked
                       {"customer_id", "c-1"}};
  for (auto level : {spdlog::level::info, spdlog::level::warn, spdlog::level::err}) {
    const json j = json::parse(format_log_line(fixed_time(), level, "e", fields, LogContext{}));
    EXPECT_EQ(j["email"], "j***@example.com");
    EXPECT_EQ(j["customer_email"], "j***@example.org");
    EXPECT_EQ(j["phone"], "+1*******71");
    EXPECT_EQ(j["customer_phone"], "4*******71");
    EXPECT_EQ(j["nested"]["email"], "x***@z.io");
    EXPECT_EQ(j["nested"]["list"][0]["phone"], "+4*******58");
    EXPECT_EQ(j["emails"], "not-masked@example.com");
    EXPECT_EQ(j["customer_id"], "c-1");
  }
}

TEST(JsonLog, DoesNotMaskAtDebugAndTrace) {
  const json fields = {{"email", "john.doe@example.com"}, {"phone", "+14155552671"}};
  for (auto level : {spdlog::level::debug, spdlog::level::trace}) {
    const json j = json::parse(format_log_line(fixed_time(), level, "e", fields, LogContext{}));
    EXPECT_EQ(j["email"], "john.doe@example.com");
    EXPECT_EQ(j["phone"], "+14155552671");
  }
}

TEST(JsonLog, MaskingHandlesNonStringValues) {
  const json masked = mask_sensitive_fields(
      json{{"email", nullptr}, {"phone", 14155552671LL}, {"customer_email", {"a.b@c.de", "x@y.zz"}}});
  EXPECT_TRUE(masked["email"].is_null());
  EXPECT_EQ(masked["phone"], "1*******71");
  EXPECT_EQ(masked["customer_email"], (json{"a***@c.de", "x***@y.zz"}));
}

TEST(JsonLog, ReservedKeysInFieldsAreRenamed) {
  const json j = json::parse(format_log_line(fixed_time(), spdlog::level::info, "real",
                                             json{{"event", "fake"}, {"ts", 1}, {"level", "x"}}, LogContext{}));
  EXPECT_EQ(j["event"], "real");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["ts"], "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(j["field_event"], "fake");
  EXPECT_EQ(j["field_ts"], 1);
  EXPECT_EQ(j["field_level"], "x");
}

TEST(JsonLog, ExplicitCompanyIdFieldWinsOverContext) {
  const std::string line = format_log_line(fixed_time(), spdlog::level::info, "e", json{{"company_id", "explicit"}},
                                           LogContext{"corr", "ctx-company"});
  const json j = json::parse(line);
  EXPECT_EQ(j["company_id"], "explicit");
  EXPECT_EQ(j["correlation_id"], "corr");
  EXPECT_EQ(line.find("ctx-company"), std::string::npos);
}

TEST(JsonLog, NonObjectFieldsGoUnderData) {
  const json j = json::parse(format_log_line(fixed_time(), spdlog::level::info, "e", json{1, 2}, LogContext{}));
  EXPECT_EQ(j["data"], (json{1, 2}));
  const json none = json::parse(format_log_line(fixed_time(), spdlog::level::info, "e", nullptr, LogContext{}));
  EXPECT_EQ(none.size(), 3u);
}

TEST(JsonLog, EscapesAndRepairsText) {
  const std::string line = format_log_line(fixed_time(), spdlog::level::info, "quote\"newline\n",
                                           json{{"bad_utf8", std::string("a\xff" "b")}}, LogContext{});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const json j = json::parse(line);
  EXPECT_EQ(j["event"], "quote\"newline\n");
  EXPECT_EQ(j["bad_utf8"], "a\xEF\xBF\xBD" "b");  // U+FFFD
}

TEST(LogContext, ScopesNestAndRestore) {
  EXPECT_TRUE(current_log_context().correlation_id.empty());
  {
    ScopedLogContext outer("c1", "company-1");
    EXPECT_EQ(current_log_context().correlation_id, "c1");
    {
      domain::RequestContext ctx;
      ctx.company_id = "company-2";
      ctx.correlation_id = "c2";
      ScopedLogContext inner(ctx);
      EXPECT_EQ(current_log_context().company_id, "company-2");
      EXPECT_EQ(current_log_context().correlation_id, "c2");
    }
    EXPECT_EQ(current_log_context().company_id, "company-1");
  }
  EXPECT_TRUE(current_log_context().company_id.empty());
}

TEST(LogContext, IsPerThread) {
  ScopedLogContext scope("main-corr", "main-company");
  std::string seen = "unset";
  std::thread([&] { seen = current_log_context().correlation_id; }).join();
  EXPECT_EQ(seen, "");
  EXPECT_EQ(current_log_context().correlation_id, "main-corr");
}

TEST(LogLevel, ParsesKnownNamesOnly) {
  EXPECT_EQ(parse_log_level("trace"), spdlog::level::trace);
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("info"), spdlog::level::info);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  EXPECT_THROW(parse_log_level("verbose"), domain::ValidationError);
  EXPECT_THROW(parse_log_level("INFO"), domain::ValidationError);
}

// Routes log() into a string stream, and restores stderr/info afterwards.
class CapturedLog {
 public:
  explicit CapturedLog(const std::string& level) {
    init_logging(level, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_, true));
  }
  ~CapturedLog() { init_logging("info"); }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

TEST(JsonLog, LogWritesOneMaskedLineWithContext) {
  CapturedLog captured("info");
  ScopedLogContext scope("corr-9", "company-9");
  log(spdlog::level::info, "customer.created", {{"email", "john.doe@example.com"}, {"duration_ms", 12}});
  const std::string text = captured.text();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  const json j = json::parse(text);
  EXPECT_EQ(j["event"], "customer.created");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["correlation_id"], "corr-9");
  EXPECT_EQ(j["company_id"], "company-9");
  EXPECT_EQ(j["email"], "j***@example.com");
  EXPECT_EQ(j["duration_ms"], 12);
  EXPECT_TRUE(j["ts"].get<std::string>().ends_with("Z"));
}

TEST(JsonLog, LogFiltersBelowTheConfiguredLevel) {
  CapturedLog captured("warn");
  EXPECT_FALSE(log_enabled(spdlog::level::info));
  EXPECT_TRUE(log_enabled(spdlog::level::err));
  log(spdlog::level::info, "quiet");
  log(spdlog::level::debug, "quieter");
  log(spdlog::level::err, "loud");
  const std::string text = captured.text();
  EXPECT_EQ(text.find("quiet"), std::string::npos);
  EXPECT_NE(text.find("\"event\":\"loud\""), std::string::npos);
}

TEST(JsonLog, DebugLevelLogsUnmasked) {
  CapturedLog captured("debug");
  log(spdlog::level::debug, "probe", {{"phone", "+14155552671"}});
  EXPECT_NE(captured.text().find("+14155552671"), std::string::npos);
}

TEST(JsonLog, OffSilencesEverything) {
  CapturedLog captured("off");
  log(spdlog::level::critical, "nothing");
  EXPECT_TRUE(captured.text().empty());
}

TEST(JsonLog, InitRejectsUnknownLevel) {
  EXPECT_THROW(init_logging("loud"), domain::ValidationError);
}

}  // namespace
}  // namespace tradesphere::common
