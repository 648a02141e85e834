-- CustomerRepository and the merge of this version call these functions: after this down
-- migration, run the binary of the version before (as after any down migration).
DROP FUNCTION chat_sync_lock_customers(uuid, uuid[]);
DROP FUNCTION chat_sync_customer_buckets(uuid, uuid[]);
DROP FUNCTION chat_sync_lock_contacts(uuid, text[], text[], text[]);
