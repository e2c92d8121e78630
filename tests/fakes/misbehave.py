"""Request handlers for an ``ArticleServer`` that misbehave on purpose."""

from __future__ import annotations

import asyncio
import zlib
from functools import cache

from aiohttp import web


async def drip(request: web.Request) -> web.StreamResponse:
    """A slow-loris: headers at once, then one byte a second, forever."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    while True:
        await response.write(b"<")
        await asyncio.sleep(1.0)


async def silent(request: web.Request) -> web.StreamResponse:
    """Accepts the request and never answers."""
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def endless(request: web.Request) -> web.StreamResponse:
    """An HTML body that never ends."""
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    await response.write(b"<!doctype html><html><body>")
    while True:
        await response.write(b"<p>" + b"x" * 65_536 + b"</p>")


async def hang_up(request: web.Request) -> web.StreamResponse:
    """Closes the connection without a response."""
    assert request.transport is not None
    request.transport.close()
    await asyncio.sleep(1)
    raise AssertionError("unreachable")


@cache
def gzip_zeros(megabytes: int) -> bytes:
    """A gzip bomb: ``megabytes`` MB of zeros, about 1000 times smaller compressed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join([*(packer.compress(block) for _ in range(megabytes)), packer.flush()])
