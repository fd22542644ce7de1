"""The `alpha` command line."""
