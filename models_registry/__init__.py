"""The registry: applications' data models as metadata, their tables, and their runtime classes."""
