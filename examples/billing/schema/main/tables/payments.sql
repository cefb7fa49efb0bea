CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id),
    amount          NUMERIC(12, 2) NOT NULL CHECK (amount > 0),
    received_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    provider_ref    VARCHAR(100)
);
