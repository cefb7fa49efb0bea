"""The engine-neutral schema model, its JSON and DDL forms, and the sources it is read from."""
