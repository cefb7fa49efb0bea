CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    number          VARCHAR(30) NOT NULL UNIQUE,
    issued_on       DATE NOT NULL,
    due_on          DATE NOT NULL,
    status          VARCHAR(10) NOT NULL DEFAULT 'open'
                    CHECK (status IN ('draft', 'open', 'paid', 'void')),
    currency        CHAR(3) NOT NULL DEFAULT 'EUR'
);
CREATE INDEX invoices_open_due ON invoices (tenant_id, due_on) WHERE status = 'open';
