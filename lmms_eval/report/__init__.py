"""Stage 7: results JSON, per-sample logs and the printed table."""
