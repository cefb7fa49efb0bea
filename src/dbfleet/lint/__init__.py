"""Code analysis of migration scripts: real-parser syntax checks and schema-aware safety rules."""
