CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan_code   VARCHAR(30) NOT NULL REFERENCES plans (code),
    started_on  DATE NOT NULL,
    ended_on    DATE,
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);
