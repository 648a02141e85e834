// Field-by-field proposal for merging customer records (pure; no database).
//
// For every mergeable field the plan lists each record's value, whether the
// non-empty values disagree, the proposed value and why:
//   - "all records agree" / "only non-empty value";
//   - "user-entered over chat-derived": a value on a record whose source is not
//     `chat` beats values on chat-created records;
//   - then "longest" (name, address) or "most recent non-empty" (email, phone:
//     the record updated last wins), ties broken by the target first;
//   - lifecycle_stage: "furthest stage" (customer > lead > prospect; churned only
//     when every record is churned);
//   - notes: "notes kept": every distinct non-empty note, target first, joined by a blank line;
//   - tags: "union" of every record's tags (target order first).
// external_id is never merged (it stays unique to the record that owns it).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tradesphere::domain {

// The merge-relevant view of one customer row.
struct MergeRecord {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> address;
  std::optional<std::string> notes;
  std::string lifecycle_stage = "prospect";
  std::vector<std::string> tags;
  std::string source = "manual";  // chat | manual | import | api
  std::string updated_at;          // ISO-8601 text; compared as text (same zone format from the database)
};

struct FieldValue {
  std::string customer_id;
  std::optional<std::string> value;
};

struct FieldProposal {
  std::string field;
  std::vector<FieldValue> values;  // target first, then the sources in the given order
  bool conflict = false;           // the non-empty values differ
  std::optional<std::string> proposed;
  std::optional<std::string> proposed_from;  // customer id the value came from (none for notes/tags unions)
  std::string reason;
};

inline constexpr const char* kMergeableFields[] = {"name", "email", "phone", "address", "lifecycle_stage", "notes", "tags"};

bool is_mergeable_field(const std::string& field);

// The proposal for every field of kMergeableFields, in that order. Tags are
// rendered as a comma-separated list in `values`/`proposed`.
std::vector<FieldProposal> plan_merge(const MergeRecord& target, const std::vector<MergeRecord>& sources);

// The values the target gets: proposals, overridden by explicit choices
// (field -> value; nullopt clears the field). Throws ValidationError for an
// unknown field, a choice for `tags` (always the union), or an invalid stage.
struct MergeOutcome {
  std::optional<std::string> name, email, phone, address, notes;
  std::string lifecycle_stage;
  std::vector<std::string> tags;
};
MergeOutcome resolve_merge(const MergeRecord& target, const std::vector<MergeRecord>& sources,
                           const std::map<std::string, std::optional<std::string>>& choices);

nlohmann::json to_json(const FieldProposal& proposal);

}  // namespace tradesphere::domain
