#include "domain/merge_plan.hpp"

#include <algorithm>
#include <functional>

#include "domain/errors.hpp"
#include "domain/normalize.hpp"

namespace tradesphere::domain {
namespace {

using Getter = std::function<const std::optional<std::string>&(const MergeRecord&)>;

bool empty_value(const std::optional<std::string>& v) { return !v || trim(*v).empty(); }

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::vector<const MergeRecord*> all_records(const MergeRecord& target, const std::vector<MergeRecord>& sources) {
  std::vector<const MergeRecord*> out{&target};
  for (const auto& s : sources) out.push_back(&s);
  return out;
}

FieldProposal scalar_proposal(const std::string& field, const std::vector<const MergeRecord*>& records,
                              const Getter& get, bool prefer_longest) {
  FieldProposal p;
  p.field = field;
  std::vector<const MergeRecord*> filled;
  for (const auto* r : records) {
    p.values.push_back({r->id, get(*r)});
    if (!empty_value(get(*r))) filled.push_back(r);
  }
  if (filled.empty()) {
    p.reason = "no record has a value";
    return p;
  }
  bool all_equal = std::all_of(filled.begin(), filled.end(),
                               [&](const MergeRecord* r) { return trim(*get(*r)) == trim(*get(*filled[0])); });
  p.conflict = !all_equal;
  if (filled.size() == 1 || all_equal) {
    p.proposed = get(*filled[0]);
    p.proposed_from = filled[0]->id;
    p.reason = filled.size() == 1 ? "only non-empty value" : "all records agree";
    return p;
  }
  std::vector<const MergeRecord*> pool;
  for (const auto* r : filled)
    if (r->source != "chat") pool.push_back(r);
  bool user_over_chat = !pool.empty() && pool.size() < filled.size();
  if (pool.empty()) pool = filled;
  if (user_over_chat && pool.size() == 1) {
    p.proposed = get(*pool[0]);
    p.proposed_from = pool[0]->id;
    p.reason = "user-entered over chat-derived";
    return p;
  }
  const MergeRecord* best = pool[0];  // target first: wins ties
  for (const auto* r : pool) {
    if (prefer_longest ? trim(*get(*r)).size() > trim(*get(*best)).size() : r->updated_at > best->updated_at) best = r;
  }
  p.proposed = get(*best);
  p.proposed_from = best->id;
  p.reason = std::string(user_over_chat ? "user-entered over chat-derived, then " : "") +
             (prefer_longest ? "longest" : "most recent non-empty");
  return p;
}

int stage_rank(const std::string& s) {
  if (s == "customer") return 3;
  if (s == "lead") return 2;
  if (s == "prospect") return 1;
  return 0;  // churned
}

}  // namespace

bool is_mergeable_field(const std::string& field) {
  return std::find(std::begin(kMergeableFields), std::end(kMergeableFields), field) != std::end(kMergeableFields);
}

std::vector<FieldProposal> plan_merge(const MergeRecord& target, const std::vector<MergeRecord>& sources) {
  auto records = all_records(target, sources);
  std::vector<FieldProposal> out;
  out.push_back(scalar_proposal("name", records, [](const MergeRecord& r) -> const auto& { return r.name; }, true));
  out.push_back(scalar_proposal("email", records, [](const MergeRecord& r) -> const auto& { return r.email; }, false));
  out.push_back(scalar_proposal("phone", records, [](const MergeRecord& r) -> const auto& { return r.phone; }, false));
  out.push_back(
      scalar_proposal("address", records, [](const MergeRecord& r) -> const auto& { return r.address; }, true));

  FieldProposal stage;
  stage.field = "lifecycle_stage";
  const MergeRecord* best = records[0];
  for (const auto* r : records) {
    stage.values.push_back({r->id, r->lifecycle_stage});
    if (r->lifecycle_stage != records[0]->lifecycle_stage) stage.conflict = true;
    if (stage_rank(r->lifecycle_stage) > stage_rank(best->lifecycle_stage)) best = r;
  }
  stage.proposed = best->lifecycle_stage;
  stage.proposed_from = best->id;
  stage.reason = stage.conflict ? "furthest stage" : "all records agree";
  out.push_back(stage);

  FieldProposal notes;
  notes.field = "notes";
  std::vector<std::string> kept;
  for (const auto* r : records) {
    notes.values.push_back({r->id, r->notes});
    if (!empty_value(r->notes) && std::find(kept.begin(), kept.end(), trim(*r->notes)) == kept.end())
      kept.push_back(trim(*r->notes));
  }
  notes.conflict = kept.size() > 1;
  if (!kept.empty()) notes.proposed = join(kept, "\n\n");
  notes.reason = kept.empty() ? "no record has a value" : "notes kept";
  out.push_back(notes);

  FieldProposal tags;
  tags.field = "tags";
  std::vector<std::string> all;
  for (const auto* r : records) {
    tags.values.push_back({r->id, join(r->tags, ",")});
    for (const auto& t : r->tags)
      if (std::find(all.begin(), all.end(), t) == all.end()) all.push_back(t);
  }
  for (const auto* r : records)
    if (r->tags.size() != all.size()) tags.conflict = true;
  tags.proposed = join(all, ",");
  tags.reason = "union";
  out.push_back(tags);
  return out;
}

MergeOutcome resolve_merge(const MergeRecord& target, const std::vector<MergeRecord>& sources,
                           const std::map<std::string, std::optional<std::string>>& choices) {
  std::vector<FieldError> errors;
  for (const auto& [field, value] : choices) {
    if (!is_mergeable_field(field)) {
      errors.push_back({"field_choices/" + field, "not a mergeable field"});
    } else if (field == "tags") {
      errors.push_back({"field_choices/tags", "tags are always the union of every record's tags"});
    } else if (field == "lifecycle_stage" && (!value || stage_rank(*value) == 0) && value != "churned") {
      errors.push_back({"field_choices/lifecycle_stage", "must be one of prospect, lead, customer, churned"});
    }
  }
  if (!errors.empty()) throw ValidationError(errors);

  MergeOutcome out;
  auto plan = plan_merge(target, sources);
  auto pick = [&](const FieldProposal& p) -> std::optional<std::string> {
    auto it = choices.find(p.field);
    if (it != choices.end()) return it->second && !trim(*it->second).empty() ? it->second : std::nullopt;
    return p.proposed;
  };
  for (const auto& p : plan) {
    if (p.field == "name") out.name = pick(p);
    if (p.field == "email") out.email = pick(p);
    if (p.field == "phone") out.phone = pick(p);
    if (p.field == "address") out.address = pick(p);
    if (p.field == "notes") out.notes = pick(p);
    if (p.field == "lifecycle_stage") out.lifecycle_stage = pick(p).value_or(target.lifecycle_stage);
  }
  for (const auto* r : all_records(target, sources))
    for (const auto& t : r->tags)
      if (std::find(out.tags.begin(), out.tags.end(), t) == out.tags.end()) out.tags.push_back(t);
  return out;
}

nlohmann::json to_json(const FieldProposal& p) {
  nlohmann::json values = nlohmann::json::array();
  for (const auto& v : p.values)
    values.push_back({{"customer_id", v.customer_id}, {"value", v.value ? nlohmann::json(*v.value) : nullptr}});
  return {{"field", p.field},
          {"values", values},
          {"conflict", p.conflict},
          {"proposed", p.proposed ? nlohmann::json(*p.proposed) : nullptr},
          {"proposed_from", p.proposed_from ? nlohmann::json(*p.proposed_from) : nullptr},
          {"reason", p.reason}};
}

}  // namespace tradesphere::domain
