DROP FUNCTION chat_sync_failure_gauges();
