"""Webhooks: builders' URLs called with each committed change event that matches them (a
signed JSON POST, retried with backoff, in order per webhook, at least once)."""
