-- Stage counts read the company's customers again.
DROP INDEX customers_active_stage_idx;
