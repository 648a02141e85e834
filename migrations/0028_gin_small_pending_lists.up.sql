-- Small GIN pending lists (issue 14: search p99 at 1M). With fastupdate (the
-- default) a GIN index collects new entries in an unsorted pending list that
-- every lookup scans in full until VACUUM, autovacuum or the list's size limit
-- (gin_pending_list_limit, 4 MB by default) moves them into the index. Autovacuum
-- of a 1M-row table waits for ~200k inserts, so after a few thousand new
-- customers (an import) each trigram lookup scanned ~270 pending pages: search at
-- 1M went from 9.6 to 48 ms p50 (typo), 16.7 to 51 ms (email fragment), measured
-- with 7,002 pending entries. A 64 kB limit makes the inserting backend merge the
-- list when it outgrows 8 pages: lookups never scan more, inserts keep the
-- batching. Existing pending lists are merged now.
ALTER INDEX customer_matching_keys_name_trgm_idx SET (gin_pending_list_limit = 64);
ALTER INDEX customer_search_email_trgm_idx SET (gin_pending_list_limit = 64);
ALTER INDEX customer_search_name_trgm_idx SET (gin_pending_list_limit = 64);
ALTER INDEX customer_search_phone_grams_idx SET (gin_pending_list_limit = 64);
ALTER INDEX customer_search_phone_trgm_idx SET (gin_pending_list_limit = 64);
ALTER INDEX customers_tags_idx SET (gin_pending_list_limit = 64);
ALTER INDEX duplicate_blocking_keys_idx SET (gin_pending_list_limit = 64);
ALTER INDEX search_name_terms_trgm_idx SET (gin_pending_list_limit = 64);

SELECT gin_clean_pending_list(c.oid)
  FROM pg_class c
  JOIN pg_am a ON a.oid = c.relam AND a.amname = 'gin'
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public';
