CREATE TABLE plans (
    code            VARCHAR(30) PRIMARY KEY,
    name            VARCHAR(100) NOT NULL,
    monthly_price   NUMERIC(10, 2) NOT NULL CHECK (monthly_price >= 0),
    currency        CHAR(3) NOT NULL DEFAULT 'EUR'
);
