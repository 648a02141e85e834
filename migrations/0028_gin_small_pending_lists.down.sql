-- The default pending list limit (4 MB) again.
ALTER INDEX customer_matching_keys_name_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX customer_search_email_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX customer_search_name_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX customer_search_phone_grams_idx RESET (gin_pending_list_limit);
ALTER INDEX customer_search_phone_trgm_idx RESET (gin_pending_list_limit);
ALTER INDEX customers_tags_idx RESET (gin_pending_list_limit);
ALTER INDEX duplicate_blocking_keys_idx RESET (gin_pending_list_limit);
ALTER INDEX search_name_terms_trgm_idx RESET (gin_pending_list_limit);
