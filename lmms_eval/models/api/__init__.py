"""Backends that talk to hosted APIs and inference servers over HTTP."""
