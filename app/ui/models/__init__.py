"""Qt item models of the desktop, each in its own module with its own tests."""
