"""``python -m crucible`` is the ``crucible`` command."""

import sys

from crucible.cli import main

sys.exit(main())
