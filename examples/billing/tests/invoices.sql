-- Invoices and the reporting views (R__reporting_views.sql).

-- test: the plans seeded by V2 are priced in the default currency
-- expect: team | 49 | ${default_currency}
SELECT code, monthly_price, currency FROM plans WHERE code = 'team';

-- test: invoice totals add up their lines
-- expect: 1 | 49
-- expect: 2 | 64
-- expect: 3 | 240
SELECT invoice_id, total FROM invoice_totals ORDER BY invoice_id;

-- test: open receivables count only open invoices
-- expect: 1 | 64
-- expect: 2 | 240
SELECT tenant_id, outstanding FROM open_receivables ORDER BY tenant_id;

-- test: paying an invoice takes it out of the receivables
UPDATE invoices SET status = 'paid' WHERE number = 'ACME-002';
-- expect rows: 1
SELECT * FROM open_receivables;

-- test: an invoice status must be one of draft, open, paid, void
-- expect error: check constraint
INSERT INTO invoices (id, tenant_id, number, issued_on, due_on, status)
VALUES (4, 1, 'ACME-003', '2026-03-01', '2026-03-31', 'late');
