"""The pipeline's stages: requests -> inference -> scoring -> aggregation."""
