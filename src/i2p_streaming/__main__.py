"""``python -m i2p_streaming``: the ``i2p-streaming`` command line."""

import sys

from i2p_streaming.cli.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
