"""The demo: a local AWS emulator seeded with a realistic organization, and its people."""
