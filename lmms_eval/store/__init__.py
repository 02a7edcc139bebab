"""The response store: answers persisted as they arrive, keyed by request and model."""
