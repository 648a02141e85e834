-- 0004 indexes on "VC Usage" (its own migration: CREATE INDEX holds a SHARE lock
-- that pauses chat inserts for the duration of the build; kept short by doing
-- nothing else in this transaction).

-- Target of the composite foreign keys (company_id, vc_usage_id) of other tables.
ALTER TABLE "VC Usage" ADD CONSTRAINT vc_usage_company_id_id_key UNIQUE (company_id, id);
-- Session reuse in the sync trigger; a conversation's messages.
CREATE INDEX vc_usage_session_idx ON "VC Usage" (company_id, session_id, id);
-- A customer's timeline; metrics first/last contact recomputation.
CREATE INDEX vc_usage_customer_timeline_idx ON "VC Usage" (company_id, customer_id, created_at, id)
  WHERE customer_id IS NOT NULL;
-- Orphaned conversations (not linked to a customer), newest first.
CREATE INDEX vc_usage_orphans_idx ON "VC Usage" (company_id, created_at, id)
  WHERE customer_id IS NULL;
-- Quarantined rows by tech_id, for assignment.
CREATE INDEX vc_usage_quarantined_idx ON "VC Usage" (tech_id)
  WHERE company_id IS NULL;
