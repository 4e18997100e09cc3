"""voxpy's test kit: drive any scenario with a fake SIP peer, in memory or over real SIP.

.. code-block:: python

    from voxpy.testing import ScenarioHarness

    async def test_hello() -> None:
        async with ScenarioHarness("scenarios/hello_hangup.py", backend="memory") as h:
            call = await h.dial(to="100")
            await call.wait_answered()
            assert await call.wait_hangup() == 200
            assert h.events(call) == ["Call.Connected", "Call.Disconnected"]
"""

from voxpy.testing.clock import VirtualClock
from voxpy.testing.harness import ScenarioHarness
from voxpy.testing.peer import PeerCall
from voxpy.testing.recorder import Recorder

__all__ = ["PeerCall", "Recorder", "ScenarioHarness", "VirtualClock"]
