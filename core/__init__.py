"""The project-wide machinery every app builds on; it imports no app."""
