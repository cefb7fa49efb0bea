-- Test data, loaded once after the migrations: two tenants, their users, subscriptions,
-- invoices and a payment. Each test sees exactly this (its own changes are rolled back).
INSERT INTO tenants (id, slug, name) VALUES
    (1, 'acme', 'Acme Corp'),
    (2, 'globex', 'Globex');

INSERT INTO users (id, tenant_id, email, full_name) VALUES
    (1, 1, 'ana@acme.test', 'Ana Silva'),
    (2, 1, 'bo@acme.test', 'Bo Berg'),
    (3, 2, 'cy@globex.test', NULL);

INSERT INTO subscriptions (id, tenant_id, plan_code, started_on) VALUES
    (1, 1, 'team', '2026-01-01'),
    (2, 2, 'free', '2026-02-01');
