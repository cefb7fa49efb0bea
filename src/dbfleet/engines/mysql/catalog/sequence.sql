-- MariaDB keeps a sequence's options in the sequence itself, which is read like a table. The
-- inspector joins this query, once per sequence ({name} a string literal, {table} a quoted
-- name), with UNION ALL into one query. next_not_cached_value is data, like AUTO_INCREMENT.
SELECT {name} AS name,
       start_value AS start,
       `increment` AS `increment`,
       minimum_value AS minimum,
       maximum_value AS maximum,
       cache_size AS cache,
       cycle_option = 1 AS cycle
FROM {table}
