"""The web dashboard: audience boards, organiser pages and the JSON API."""
