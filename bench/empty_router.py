"""An empty RouterService: Route returns a canned decision without looking at the request.

The baseline for bench/route_overhead.py: the same gRPC stack, the same
request and response sizes, none of the router's work.

    python bench/empty_router.py CANNED_RESPONSE_FILE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import grpc.aio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rolemodel.v1 import router_service_pb2, router_service_pb2_grpc


class EmptyRouter(router_service_pb2_grpc.RouterServiceServicer):
    def __init__(self, canned: router_service_pb2.RouteResponse) -> None:
        self.canned = canned

    async def Route(self, request: router_service_pb2.RouteRequest, context: Any) -> router_service_pb2.RouteResponse:
        return self.canned


async def main(path: Path) -> None:
    canned = router_service_pb2.RouteResponse.FromString(path.read_bytes())
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
    router_service_pb2_grpc.add_RouterServiceServicer_to_server(EmptyRouter(canned), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"empty router on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
