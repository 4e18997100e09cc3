"""Awaits real I/O in a handler (an HTTP request to a CRM, or asyncio.sleep), then virtual
waits (VoxEngine.sleep). Custom data: the CRM URL, or nothing for a 0.3 s asyncio.sleep."""

import asyncio

import aiohttp

from voxpy import AppEvents, CallEvents, VoxEngine


async def lookup():
    url = VoxEngine.custom_data()
    if not url:
        await asyncio.sleep(0.3)
        return "5"
    async with aiohttp.ClientSession() as http, http.get(url) as reply:
        return await reply.text()


async def on_connected(e):
    call = e.call
    balance = await lookup()
    if not call.live:
        return
    await call.say(f"Your balance is {balance}.")
    await VoxEngine.sleep(20)
    if call.live:
        await call.say("Still there?")
    if call.live:
        call.hangup()


async def background_lookup(call):
    balance = await lookup()
    if call.live:
        call.say(f"In the background: {balance}.")


def on_connected_detached(e):
    asyncio.create_task(background_lookup(e.call))  # noqa: RUF006 - the test kit sees it


def on_alerting(e):
    if e.destination == "detached":
        e.call.add_event_listener(CallEvents.Connected, on_connected_detached)
    else:
        e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
