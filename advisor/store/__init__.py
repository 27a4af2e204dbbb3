"""Property store: published scores with provenance, in DuckDB."""
