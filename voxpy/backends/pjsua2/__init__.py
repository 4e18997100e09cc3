"""The pjsua2 backend: real SIP and RTP through PJSIP's pjsua2 binding.

This package is the only place in voxpy that imports ``pjsua2``, and only once a backend is
started (see :mod:`.backend`). One endpoint per process, at most 4 concurrent legs.
"""

from __future__ import annotations

from voxpy.backends.pjsua2.backend import PjsuaBackend
from voxpy.backends.pjsua2.options import PjsuaOptions

__all__ = ["PjsuaBackend", "PjsuaOptions"]
