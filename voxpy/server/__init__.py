"""``voxpy serve``: a pool of voxpy workers behind Kamailio, with an HTTP management API.

::

    voxpy serve (Supervisor: asyncio, public aiohttp API)
     ├─ kamailio -DD -E -f <run_dir>/kamailio.cfg     the public SIP port, dispatcher alg 10
     ├─ voxpy run SCENARIO --control-socket w0 ...    worker 0: SIP on worker_port_base
     └─ voxpy run SCENARIO --control-socket w1 ...    worker 1, ...

The supervisor talks to Kamailio through JSON-RPC on a unix datagram socket
(:mod:`voxpy.server.rpc`) and to each worker through its control API on a unix socket in the
run directory (:mod:`voxpy.server.control`). Nothing here imports pjsua2: only the workers load it.
"""

from voxpy.server.supervisor import Supervisor, kamailio_missing

__all__ = ["Supervisor", "kamailio_missing"]
