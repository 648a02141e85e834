#include "db/overview_repository.hpp"

#include "db/database.hpp"
#include "domain/timestamp.hpp"

namespace tradesphere::db {
namespace {

// $1 company, $2 the lowest duplicate score shown. One statement (one snapshot);
// every part reads one company through an index on company_id first.
//
// stages: the sum of the company's rows of customer_stage_counts (migration 0049:
// signed deltas appended by the statement triggers of customers, folded now and
// then; a few dozen rows whatever the company's size). Before, this part counted
// the company's active customers: from the heap (GET /v1/overview at 1M 185–369 ms
// p50, nearly all of it this count), then from 0031's index (212 ms), which kept a
// stage change from being a HOT update (docs/performance.md, "GET /v1/overview",
// "Tenth session"). The rest reads only what happened today, the pairs and the failures.
//
// today_rows: a chat row created today belongs to a customer whose
// last_contact_at (the latest created_at of its rows, customer_metrics) is today or
// later, so the customers contacted today come from customer_metrics_last_contact_idx
// (every status: a customer deleted after writing today keeps its rows) and their
// rows from vc_usage_customer_timeline_idx; rows without a customer from
// vc_usage_orphans_idx. The work follows today's traffic, not the company's history.
// Midnight UTC is written out where it is used (date_trunc('day', now(), 'UTC'),
// stable): the planner estimates today's rows from it, where a parameter from a CTE
// would be a blind guess (a third of the table) and a hash join over every chat row.
// A conversation "started today" has no row of the company before midnight UTC
// (vc_usage_session_idx); a row without session id is a conversation of its own.
constexpr const char* kOverview = R"SQL(
WITH stages AS (
  SELECT coalesce(sum(s.customers) FILTER (WHERE s.lifecycle_stage = 'prospect'), 0)::bigint AS prospect,
         coalesce(sum(s.customers) FILTER (WHERE s.lifecycle_stage = 'lead'), 0)::bigint     AS lead,
         coalesce(sum(s.customers) FILTER (WHERE s.lifecycle_stage = 'customer'), 0)::bigint AS customer,
         coalesce(sum(s.customers) FILTER (WHERE s.lifecycle_stage = 'churned'), 0)::bigint  AS churned
    FROM customer_stage_counts s
   WHERE s.company_id = $1
), pairs AS MATERIALIZED (
  SELECT d.customer_a, d.customer_b FROM duplicate_candidates d WHERE d.company_id = $1 AND d.score >= $2
), paired AS (
  SELECT (SELECT count(*) FROM pairs) AS pairs,
         (SELECT count(*) FROM (SELECT p.customer_a FROM pairs p UNION SELECT p.customer_b FROM pairs p) u) AS customers
), today_rows AS (
  SELECT v.id, v.session_id
    FROM customer_metrics m
    JOIN "VC Usage" v ON v.company_id = m.company_id AND v.customer_id = m.customer_id
                     AND v.customer_id IS NOT NULL  -- the timeline index is partial
   WHERE m.company_id = $1 AND m.customer_status IN ('active', 'deleted', 'merged')
     AND m.last_contact_at >= date_trunc('day', now(), 'UTC')
     AND v.created_at >= date_trunc('day', now(), 'UTC')
  UNION ALL
  SELECT v.id, v.session_id
    FROM "VC Usage" v
   WHERE v.company_id = $1 AND v.customer_id IS NULL AND v.created_at >= date_trunc('day', now(), 'UTC')
), conversations AS (
  SELECT min(t.session_id) AS session_id, count(*) AS messages
    FROM today_rows t
   GROUP BY conversation_key(t.session_id, t.id)
), chat AS (
  SELECT coalesce(sum(c.messages), 0)::bigint AS messages,
         count(*) AS active,
         count(*) FILTER (WHERE NOT c.earlier) AS started
    FROM (SELECT cv.messages,
                 coalesce(cv.session_id, '') <> '' AND EXISTS (
                   SELECT 1 FROM "VC Usage" p
                    WHERE p.company_id = $1 AND p.session_id = cv.session_id
                      AND p.created_at < date_trunc('day', now(), 'UTC')) AS earlier
            FROM conversations cv) c
), failures AS (
  SELECT count(*) FILTER (WHERE f.reason = 'error')   AS error,
         count(*) FILTER (WHERE f.reason = 'paused')  AS paused,
         count(*) FILTER (WHERE f.reason = 'metrics') AS metrics
    FROM chat_sync_failures f
   WHERE f.company_id = $1 AND f.resolved_at IS NULL
)
SELECT now()::text, date_trunc('day', now(), 'UTC')::text,
       s.prospect, s.lead, s.customer, s.churned,
       paired.pairs, paired.customers,
       coalesce((SELECT pv.version FROM duplicate_pair_versions pv WHERE pv.company_id = $1), 0),
       chat.messages, chat.active, chat.started,
       failures.error, failures.paused, failures.metrics,
       (SELECT count(*) FROM "VC Usage" o WHERE o.company_id = $1 AND o.customer_id IS NULL)
  FROM stages s, paired, chat, failures
)SQL";

// The statement's estimated cost grew with the company's customers (the stage count,
// before 0049; the pairs still do) and passed jit_above_cost: compiling it took
// ~250 ms at 100k, several times the query itself. Off for this transaction only.
constexpr const char* kNoJit = "SET LOCAL jit = off";

}  // namespace

OverviewCounts load_overview(Tx& tx, const std::string& company_id, double min_duplicate_score) {
  tx.exec(kNoJit);
  const auto r = tx.exec1(kOverview, company_id, min_duplicate_score);
  OverviewCounts o;
  o.as_of = domain::rfc3339_or_same(r[0].as<std::string>());
  o.day_start = domain::rfc3339_or_same(r[1].as<std::string>());
  o.prospect = r[2].as<std::int64_t>();
  o.lead = r[3].as<std::int64_t>();
  o.customer = r[4].as<std::int64_t>();
  o.churned = r[5].as<std::int64_t>();
  o.duplicate_pairs = r[6].as<std::int64_t>();
  o.customers_in_duplicate_pairs = r[7].as<std::int64_t>();
  o.duplicate_pairs_version = r[8].as<std::int64_t>();
  o.messages_today = r[9].as<std::int64_t>();
  o.conversations_active_today = r[10].as<std::int64_t>();
  o.conversations_started_today = r[11].as<std::int64_t>();
  o.sync_failures_error = r[12].as<std::int64_t>();
  o.sync_failures_paused = r[13].as<std::int64_t>();
  o.sync_failures_metrics = r[14].as<std::int64_t>();
  o.orphaned_chat_rows = r[15].as<std::int64_t>();
  return o;
}

}  // namespace tradesphere::db
