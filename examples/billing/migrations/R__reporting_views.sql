-- Reporting views: re-created whenever this file changes.
DROP VIEW IF EXISTS open_receivables;
DROP VIEW IF EXISTS invoice_totals;

CREATE VIEW invoice_totals AS
SELECT i.id AS invoice_id, i.tenant_id, i.status,
       SUM(l.quantity * l.unit_price) AS total
FROM invoices i
LEFT JOIN invoice_lines l ON l.invoice_id = i.id
GROUP BY i.id, i.tenant_id, i.status;

CREATE VIEW open_receivables AS
SELECT t.tenant_id, SUM(t.total) AS outstanding
FROM invoice_totals t
WHERE t.status = 'open'
GROUP BY t.tenant_id;
