"""Reusable, typed test helpers: the fake link and clock (link.py), wired pairs of managers
(pair.py), assertions on sent packets and events (asserts.py), the fake I2CP router
(fakerouter.py), the embedded router (embedded.py), i2pd (i2pd.py) and its SAM bridge (sam.py)."""
