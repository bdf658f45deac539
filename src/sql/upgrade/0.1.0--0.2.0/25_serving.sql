-- The serving wrappers customer_profile and product_complements are not
-- STRICT, so the planner inlines them (a STRICT set-returning SQL function
-- is not inlined; see src/sql/97_pipeline.sql). NULL arguments still give
-- no rows.
ALTER FUNCTION customer_profile(bigint) CALLED ON NULL INPUT;
ALTER FUNCTION product_complements(bigint, integer) CALLED ON NULL INPUT;
