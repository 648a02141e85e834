DROP FUNCTION customer_gauges();
