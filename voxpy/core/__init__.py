"""The pure core: call state machine, signals, commands and event names.

Nothing in this package does I/O, reads a clock, starts a thread or imports asyncio: time arrives
as an argument (``now``) and effects leave as :mod:`~voxpy.core.commands` values.
"""
