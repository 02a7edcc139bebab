"""Test and demo helpers that ship with the package (kept import-light)."""
