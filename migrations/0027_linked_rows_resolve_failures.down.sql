-- Only link_chat_row() resolves sync failures again (failures resolved meanwhile stay resolved).
DROP TRIGGER trg_vc_usage_linked_resolve_failures ON "VC Usage";
DROP FUNCTION vc_usage_linked_resolve_failures();
