"""``python -m voxpy`` is the ``voxpy`` command."""

import sys

from voxpy.cli import main

sys.exit(main())
