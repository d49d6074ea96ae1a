"""Turning an assessment into the stable JSON of ``cds assess --json`` and readable text."""
