CREATE TABLE invoice_lines (
    invoice_id      INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    line_no         INTEGER NOT NULL,
    description     VARCHAR(200) NOT NULL,
    quantity        NUMERIC(12, 3) NOT NULL DEFAULT 1,
    unit_price      NUMERIC(12, 2) NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
