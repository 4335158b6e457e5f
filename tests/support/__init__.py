"""Typed, reusable test helpers: the fake link and clock (link.py), wired pairs of managers
(pair.py) and assertions on sent packets and events (asserts.py)."""
