"""Django project for the bakeoff reference target (see targets/API.md)."""
