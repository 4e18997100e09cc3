"""A child for the zygote tests: says ready, describes itself on stderr, exits as told."""

from __future__ import annotations

import os
import sys
import time

os.write(int(os.environ["VOXPY_READY_FD"]), b"ready\n")
sys.stderr.write(f"{os.environ.get('GREETING')} pgid={os.getpgid(0)} pid={os.getpid()}\n")
sys.stderr.flush()
if sys.argv[1:] == ["wait"]:
    time.sleep(60)
sys.exit(int(sys.argv[1]) if sys.argv[1:] and sys.argv[1].isdigit() else 0)
