"""Raises at top level, on line 4."""

settings = {}
timeout = settings["timeout"]
