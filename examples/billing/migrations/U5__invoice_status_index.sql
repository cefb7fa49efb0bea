DROP INDEX invoices_open_due;
