-- Runs after every migrate: fresh statistics for the query planner.
ANALYZE;
