"""The ``i2p-streaming`` command line (``python -m i2p_streaming.cli``); see :mod:`.__main__`."""
