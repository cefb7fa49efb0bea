"""`dbfleet test`: SQL tests (built-in and pgTAP) and the undo check, in a scratch database."""
