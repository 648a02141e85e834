// Pages and results of the customer records as the services return them
// (CustomerCrudService, CustomerLifecycleService): plain values, filled by
// db::CustomerRepository, rendered by the HTTP layer; the input limits the
// services check. No database type here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/customer.hpp"

namespace tradesphere::domain {

struct CustomerPage {
  std::vector<CustomerWithMetrics> items;
  std::optional<std::string> next_cursor;  // absent on the last page
  std::optional<std::int64_t> total;       // only when filters.include_total
};

struct SearchHit {
  CustomerWithMetrics customer;
  double score = 0;                // 1 = exact, lower = partial / fuzzy
  std::vector<std::string> matched;  // "name", "email", "phone"
};

struct BulkStageResult {
  std::int64_t updated = 0;              // customers whose stage changed
  std::int64_t unchanged = 0;            // found, already in that stage
  std::vector<std::string> not_found;    // ids not found (other company, deleted, merged, unknown, not a uuid)
};

// One entry of the customer timeline: an event, a conversation or a merge.
struct TimelineEntry {
  std::string kind;  // "event" | "conversation" | "merge"
  std::string id;    // events: event id; conversations: session key; merges: merge log id
  std::string type;  // event_type; "conversation"; "merged_into" | "merged_from"
  std::string at;    // ISO-8601 (conversation: time of its last message)
  nlohmann::json data = nlohmann::json::object();

  bool operator==(const TimelineEntry&) const = default;
};

struct TimelinePage {
  std::vector<TimelineEntry> items;        // newest first
  std::optional<std::string> next_cursor;  // opaque
};

inline constexpr int kMaxSearchLimit = 100;
inline constexpr int kMaxTimelineLimit = 500;
inline constexpr std::size_t kMaxBulkIds = 10000;

}  // namespace tradesphere::domain
