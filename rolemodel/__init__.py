"""The rolemodel SDK: a client for rolemodel.v1 routers and the protocol's normative algorithms.

It depends only on grpcio, protobuf and googleapis-common-protos, and imports
nothing from the reference router or the conformance suite.
"""

from rolemodel.aio import AsyncRouterClient
from rolemodel.client import RouterClient
from rolemodel.client_options import ClientOptions, RetryPolicy, TlsOptions
from rolemodel.conversation import conversation_ref, text_message
from rolemodel.errors import RoleModelError
from rolemodel.versions import CURRENT_VERSION, SUPPORTED_VERSIONS

__all__ = [
    "CURRENT_VERSION",
    "SUPPORTED_VERSIONS",
    "AsyncRouterClient",
    "ClientOptions",
    "RetryPolicy",
    "RoleModelError",
    "RouterClient",
    "TlsOptions",
    "conversation_ref",
    "text_message",
]

#: The distribution's version, the one source for the package metadata and both programs: MAJOR.MINOR follow
#: the newest protocol version served (CURRENT_VERSION), PATCH counts fixes; see docs/releasing.md.
__version__ = "1.0.0.dev0"
