-- Back to 0035: the checkpoint tables go (the backfill's progress is forgotten).
DROP TABLE backfill_company_checkpoint;
DROP TABLE backfill_checkpoint;
