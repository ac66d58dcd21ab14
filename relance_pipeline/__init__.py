"""relance: dunning as code."""
