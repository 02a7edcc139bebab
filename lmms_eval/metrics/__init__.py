"""Per-sample metrics, aggregations and their standard errors, registered by name."""
