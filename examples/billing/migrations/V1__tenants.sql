-- Every customer of the SaaS is a tenant; users log in to exactly one tenant.
CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    slug        VARCHAR(63) NOT NULL UNIQUE,
    name        VARCHAR(200) NOT NULL,
    created_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       VARCHAR(320) NOT NULL,
    full_name   VARCHAR(200),
    UNIQUE (tenant_id, email)
);
