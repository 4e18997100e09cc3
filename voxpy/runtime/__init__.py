"""The asyncio runtime around the pure core: sessions, calls, dispatch, timers, scenarios."""
