-- Back to 0040: the UPDATE side of the metrics copy as a row trigger.
DROP TRIGGER trg_customer_metrics_copy_update ON customer_metrics;
DROP FUNCTION customer_metrics_copy_updated();

CREATE TRIGGER trg_customer_metrics_copy_update
  AFTER UPDATE ON customer_metrics
  FOR EACH ROW
  WHEN ((OLD.conversation_count, OLD.message_count, OLD.first_contact_at, OLD.last_contact_at,
         OLD.last_message_preview)
        IS DISTINCT FROM (NEW.conversation_count, NEW.message_count, NEW.first_contact_at,
                          NEW.last_contact_at, NEW.last_message_preview)
        OR OLD.company_id IS DISTINCT FROM NEW.company_id OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
  EXECUTE FUNCTION customer_metrics_copy_to_customer();
