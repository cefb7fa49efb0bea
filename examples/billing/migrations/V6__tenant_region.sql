-- Tenants get a data region; existing tenants are in the EU.
ALTER TABLE tenants ADD COLUMN region VARCHAR(10) NOT NULL DEFAULT 'eu';
UPDATE tenants SET region = 'eu' WHERE region IS NULL;
