-- Price plans are global; a tenant subscribes to one plan at a time.
CREATE TABLE plans (
    code            VARCHAR(30) PRIMARY KEY,
    name            VARCHAR(100) NOT NULL,
    monthly_price   NUMERIC(10, 2) NOT NULL CHECK (monthly_price >= 0),
    currency        CHAR(3) NOT NULL DEFAULT '${default_currency}'
);

INSERT INTO plans (code, name, monthly_price) VALUES
    ('free', 'Free', 0),
    ('team', 'Team; up to 10 seats', 49.00),
    ('business', 'Business', 199.00);

CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    plan_code   VARCHAR(30) NOT NULL REFERENCES plans (code),
    started_on  DATE NOT NULL,
    ended_on    DATE,
    CHECK (ended_on IS NULL OR ended_on >= started_on)
);
