"""Property tests: generated inputs against real engines."""
