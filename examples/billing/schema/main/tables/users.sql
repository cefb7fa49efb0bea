CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       VARCHAR(320) NOT NULL,
    full_name   VARCHAR(200),
    UNIQUE (tenant_id, email)
);
