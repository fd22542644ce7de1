"""Adapters: the only code that talks to the outside world (files, AWS, ...)."""
