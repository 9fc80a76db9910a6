#!/usr/bin/env python3
"""Echo server (RFC 862) with asyncio streams, as the asyncio tutorial writes it with
asyncio.start_server: one coroutine per connection reading and writing back.

usage: asyncio_streams.py --port=PORT [--loop=asyncio|uvloop]
Listens on 127.0.0.1 (port 0 picks a free one) and prints "listening on ADDR:PORT" to stderr.
SIGTERM or SIGINT stop it (exit 0).
"""
import argparse
import asyncio
import signal
import sys


async def handle(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    host, bound = server.sockets[0].getsockname()[:2]
    print(f"asyncio_streams: listening on {host}:{bound}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop  # Debian's python3-uvloop

        uvloop.install()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
