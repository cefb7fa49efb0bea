CREATE VIEW invoice_totals AS
SELECT i.id AS invoice_id, i.tenant_id, i.status,
       SUM(l.quantity * l.unit_price) AS total
FROM invoices i
LEFT JOIN invoice_lines l ON l.invoice_id = i.id
GROUP BY i.id, i.tenant_id, i.status;
