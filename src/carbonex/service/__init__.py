"""The Carbonex service: REST API (FastAPI), web pages and the public explorer."""
