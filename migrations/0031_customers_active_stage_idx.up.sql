-- The active customers of a company by lifecycle stage, as an index (issue 17's
-- Overview and /metrics' stage gauges). Without it a stage count read every active
-- customer of the company from the heap: GET /v1/overview took 185 ms at 1M
-- customers, nearly all of it that count. With it the count is an index-only scan
-- of the company's range. Partial (active only): deleted and merged customers are
-- never counted by stage. The stage is not in any other index, so this adds one
-- index entry per insert and per stage change, nothing to other updates.
CREATE INDEX customers_active_stage_idx ON customers (company_id, lifecycle_stage) WHERE status = 'active';
