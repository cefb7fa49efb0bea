"""Pipelines: the stage graph and its runner, `check --base`, and CI workflow generators."""
