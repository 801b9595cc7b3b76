"""Data contract, ingestion, feature building and the Feast repository."""
