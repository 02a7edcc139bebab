"""Helpers shared by several task families (imported by their utils.py)."""
