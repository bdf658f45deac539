-- Shared by the regression tests (\i from the repository root): makes the
-- planner choose parallel plans even for small tables, with the work done by
-- the workers only, so "parallel = serial" checks really combine states.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
