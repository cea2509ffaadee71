"""The demo clinic, seeded server-side so that a freshly enrolled desktop downloads it."""
