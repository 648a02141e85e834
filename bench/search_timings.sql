-- Search timings straight through search_customer_hits, as the application role, in the
-- first company of a bench database (docs/performance.md, "After the run"):
--   psql "$(build-bench/tradesphere --data-dir var/bench db url --database bench_1m_c1000000_k10_s42)" -f bench/search_timings.sql
SELECT id AS company FROM companies ORDER BY slug LIMIT 1 \gset
SELECT set_config('app.company_id', :'company', false) \g /dev/null
SELECT count(*) FROM search_customer_hits('Mich', 'Mich', NULL, 20) \g /dev/null
\timing on
SELECT count(*) FROM search_customer_hits('Mich', 'Mich', NULL, 20);
SELECT count(*) FROM search_customer_hits('Will', 'Will', NULL, 20);
SELECT count(*) FROM search_customer_hits('Timo', 'Timo', NULL, 20);
SELECT count(*) FROM search_customer_hits('Jenifer Smiht', 'Jenifer Smiht', NULL, 20);
SELECT count(*) FROM search_customer_hits('5550123', '5550123', '5550123', 20);
\timing off
-- result fingerprints, to compare before/after a change
SELECT md5(string_agg(customer_id::text || score::text, ',')) FROM search_customer_hits('Mich', 'Mich', NULL, 20);
SELECT md5(string_agg(customer_id::text || score::text, ',')) FROM search_customer_hits('Will', 'Will', NULL, 20);
