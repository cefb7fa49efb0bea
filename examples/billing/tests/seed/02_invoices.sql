INSERT INTO invoices (id, tenant_id, number, issued_on, due_on, status) VALUES
    (1, 1, 'ACME-001', '2026-01-01', '2026-01-31', 'paid'),
    (2, 1, 'ACME-002', '2026-02-01', '2026-02-28', 'open'),
    (3, 2, 'GLX-001', '2026-02-01', '2026-02-28', 'open');

INSERT INTO invoice_lines (invoice_id, line_no, description, quantity, unit_price) VALUES
    (1, 1, 'Team plan, January', 1, 49.00),
    (2, 1, 'Team plan, February', 1, 49.00),
    (2, 2, 'Extra seats', 3, 5.00),
    (3, 1, 'Consulting', 2, 120.00);

INSERT INTO payments (id, invoice_id, amount, provider_ref) VALUES (1, 1, 49.00, 'pay_0001');
