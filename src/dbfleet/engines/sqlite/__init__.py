"""SQLite: the embedded default, stdlib sqlite3 and a file lock."""
