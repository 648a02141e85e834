-- ChatRepository::insert_chats of this version calls chat_match_batch(): after this down
-- migration, run the binary of the version before (as after any down migration).
DROP FUNCTION chat_match_batch(uuid, jsonb);
