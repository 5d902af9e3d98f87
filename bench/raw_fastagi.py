"""A minimal raw-asyncio FastAGI handler: the baseline for bench_fastagi.

It reads the AGI environment, sends a fixed list of commands (one per line in
COMMANDS_FILE), reads one reply for each, and closes: the protocol work of a
call without any routing.

    python -m bench.raw_fastagi PORT COMMANDS_FILE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def main(port: int, commands: list[bytes]) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\n", b""):
            pass
        for command in commands:
            writer.write(command)
            await writer.drain()
            await reader.readline()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    lines = [line + "\n" for line in Path(sys.argv[2]).read_text(encoding="utf-8").splitlines()]
    asyncio.run(main(int(sys.argv[1]), [line.encode() for line in lines]))
