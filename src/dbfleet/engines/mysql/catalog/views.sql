-- VIEW_DEFINITION is the server's own printout of the query (the text SHOW CREATE VIEW shows).
SELECT TABLE_NAME AS name,
       VIEW_DEFINITION AS definition,
       CHECK_OPTION AS check_option,
       SECURITY_TYPE AS security,
       ALGORITHM AS algorithm
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE()
