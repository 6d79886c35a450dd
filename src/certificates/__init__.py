"""Issued certificates: numbering, e-licence identifiers and national metadata."""
