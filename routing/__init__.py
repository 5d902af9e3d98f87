"""Routing: the service center's config model and the pure routing engine (no I/O)."""
