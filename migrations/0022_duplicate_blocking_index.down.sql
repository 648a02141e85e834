-- Back to duplicate_candidate_ids() (0011) for one customer's candidates.
DROP FUNCTION duplicate_blocking_candidates(uuid, bigint[], integer, integer);
DROP FUNCTION finish_duplicate_blocking(bigint);
DROP FUNCTION store_duplicate_blocking(jsonb);
DROP TABLE duplicate_blocking_companies;
DROP TABLE duplicate_blocking;
