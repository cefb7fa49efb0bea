-- The dunning job looks for open invoices past their due date, per tenant.
CREATE INDEX invoices_open_due ON invoices (tenant_id, due_on) WHERE status = 'open';
