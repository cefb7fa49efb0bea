CREATE VIEW open_receivables AS
SELECT t.tenant_id, SUM(t.total) AS outstanding
FROM invoice_totals t
WHERE t.status = 'open'
GROUP BY t.tenant_id;
