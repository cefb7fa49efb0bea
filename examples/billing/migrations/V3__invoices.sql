CREATE TABLE invoices (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    number          VARCHAR(30) NOT NULL UNIQUE,
    issued_on       DATE NOT NULL,
    due_on          DATE NOT NULL,
    status          VARCHAR(10) NOT NULL DEFAULT 'open'
                    CHECK (status IN ('draft', 'open', 'paid', 'void')),
    currency        CHAR(3) NOT NULL DEFAULT '${default_currency}'
);

CREATE TABLE invoice_lines (
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no         INTEGER NOT NULL,
    description     VARCHAR(200) NOT NULL,
    quantity        NUMERIC(12, 3) NOT NULL DEFAULT 1,
    unit_price      NUMERIC(12, 2) NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
