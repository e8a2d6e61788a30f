"""Duplicates and merges: likely twin manufacturers, and merging companies or products."""
