"""Versioned migrations: files on disk, their state in a target, and running them."""
