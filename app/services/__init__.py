"""Use cases as plain functions; no HTTP types in here."""
