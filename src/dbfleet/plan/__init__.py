"""Plans, drift and the reports about them: what will run on a target, and what changed there."""
