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

import grpc
import grpc.aio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rolemodel.v1 import router_service_pb2


def empty_route_service(canned: router_service_pb2.RouteResponse) -> grpc.GenericRpcHandler:
    """RouterService with only Route, which parses the request (as a real one would) and ignores it."""

    async def route(request: router_service_pb2.RouteRequest, context: Any) -> router_service_pb2.RouteResponse:
        return canned

    handler = grpc.unary_unary_rpc_method_handler(
        route, router_service_pb2.RouteRequest.FromString, router_service_pb2.RouteResponse.SerializeToString
    )
    return grpc.method_handlers_generic_handler("rolemodel.v1.RouterService", {"Route": handler})


async def main(path: Path) -> None:
    canned = router_service_pb2.RouteResponse.FromString(path.read_bytes())
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
    server.add_generic_rpc_handlers((empty_route_service(canned),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"empty router on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
