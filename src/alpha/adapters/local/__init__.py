"""Adapters over the local machine: files, DuckDB."""
