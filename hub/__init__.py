"""The hub: subscribe, validate, verify, deduplicate and store opinions."""
