"""The reliability matrix: transfers over the embedded router under impairments, every byte
checked, every cell ending in success or a clear exception within its configured limits.

In the style of the QUIC Interop Runner: :mod:`~tests.reliability.cells` is the scenario
table (one :class:`~tests.reliability.cells.Cell` per row), :mod:`~tests.reliability.runner`
runs one cell (router, two sessions, the transfers, run-time router control, a hard
wall-clock limit), :mod:`~tests.reliability.report` prints the matrix and writes JSON.

- ``make test`` runs the short matrix (``test_matrix.py``: one parametrized test per cell).
- ``make reliability`` runs the full one: ``python -m tests.reliability [--quick]
  [--json FILE] [--cells a,b]``.

Only public APIs are used: ``i2p_streaming.create_session``, ``Session.open_connection`` /
``start_server`` / ``close``, asyncio streams, ``get_extra_info("stats")`` and the embedded
router's Python API (or its ``i2p-streaming router`` command as a subprocess to kill).
"""
