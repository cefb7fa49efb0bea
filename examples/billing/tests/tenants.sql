-- Tenants and users. Run with `dbfleet test`; the syntax is in `dbfleet test --help`.

-- test: a new tenant is in the EU region unless told otherwise
INSERT INTO tenants (id, slug, name) VALUES (3, 'initech', 'Initech');
-- expect: eu
SELECT region FROM tenants WHERE slug = 'initech';

-- test: tenant slugs are unique
-- expect error: unique
INSERT INTO tenants (id, slug, name) VALUES (3, 'acme', 'Another Acme');

-- test: tests do not see each other's changes
-- expect: 2
SELECT COUNT(*) FROM tenants;

-- test: users are counted per tenant
-- expect: acme   | 2
-- expect: globex | 1
SELECT t.slug, COUNT(*)
FROM tenants t JOIN users u ON u.tenant_id = t.id
GROUP BY t.slug
ORDER BY t.slug;

-- test: a user without a full name reads as NULL
-- expect: cy@globex.test | NULL
SELECT email, full_name FROM users WHERE full_name IS NULL;
