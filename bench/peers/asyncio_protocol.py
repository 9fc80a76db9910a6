#!/usr/bin/env python3
"""Echo and acknowledgement server with asyncio.Protocol, as the asyncio tutorial writes it:
callbacks instead of coroutines, one Protocol object per connection.

  echo: every byte received is written back (RFC 862).
  ack:  every '\\n'-terminated line gets "Message received\\n".

usage: asyncio_protocol.py --port=PORT [--protocol=echo|ack] [--loop=asyncio|uvloop]
Listens on 127.0.0.1 (port 0 picks a free one) and prints "listening on ADDR:PORT" to stderr.
SIGTERM or SIGINT stop it (exit 0).
"""
import argparse
import asyncio
import signal
import sys

ACK = b"Message received\n"


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    # A reader slower than its writer: stop reading until the output drains.
    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


class Ack(Echo):
    def data_received(self, data):
        lines = data.count(b"\n")
        if lines:
            self.transport.write(ACK * lines)


async def serve(port, protocol):
    loop = asyncio.get_running_loop()
    factory = Echo if protocol == "echo" else Ack
    server = await loop.create_server(factory, "127.0.0.1", port, backlog=4096)
    host, bound = server.sockets[0].getsockname()[:2]
    print(f"asyncio_protocol: listening on {host}:{bound}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--protocol", choices=("echo", "ack"), default="echo")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop  # Debian's python3-uvloop

        uvloop.install()
    asyncio.run(serve(args.port, args.protocol))


if __name__ == "__main__":
    main()
