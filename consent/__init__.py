"""Sharing policies, their versions and audit trail, and the one decision function."""
