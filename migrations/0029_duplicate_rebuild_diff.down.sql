-- The rebuild compares in SQL again (0025's store_duplicate_blocking, 0022's finish).
DROP FUNCTION finish_duplicate_blocking_of(uuid[], bigint);
DROP FUNCTION duplicate_blocking_rows();
