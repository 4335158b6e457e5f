"""Reusable, typed test helpers."""
