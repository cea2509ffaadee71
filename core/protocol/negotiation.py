"""Version negotiation: which desktops a server accepts, and who must update on a mismatch."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from core.protocol.errors import ProtocolMismatch
from core.protocol.messages import HelloRequest, HelloResponse
from core.protocol.versions import MIN_CLIENT_SCHEMA_VERSION, SCHEMA_VERSION, SUPPORTED_PROTOCOL_VERSIONS


def check_versions(
    protocol_version: int,
    schema_version: int,
    *,
    supported_protocols: frozenset[int] = SUPPORTED_PROTOCOL_VERSIONS,
    server_schema: int = SCHEMA_VERSION,
    min_client_schema: int = MIN_CLIENT_SCHEMA_VERSION,
) -> None:
    """Raise :class:`ProtocolMismatch` unless a server with these versions accepts the client."""
    server_protocol = max(supported_protocols)
    upgrade: Literal["client", "server"] | None = None
    if protocol_version not in supported_protocols:
        upgrade = "client" if protocol_version < min(supported_protocols) else "server"
    elif schema_version < min_client_schema:
        upgrade = "client"
    elif schema_version > server_schema:
        upgrade = "server"
    if upgrade is not None:
        raise ProtocolMismatch(
            client_protocol=protocol_version,
            client_schema=schema_version,
            server_protocol=server_protocol,
            server_schema=server_schema,
            upgrade=upgrade,
        )


def negotiate(
    hello: HelloRequest,
    *,
    server_time: datetime,
    high_water_seq: int | None = None,
    supported_protocols: frozenset[int] = SUPPORTED_PROTOCOL_VERSIONS,
    server_schema: int = SCHEMA_VERSION,
    min_client_schema: int = MIN_CLIENT_SCHEMA_VERSION,
) -> HelloResponse:
    """The server's answer to a hello, or :class:`ProtocolMismatch` naming both versions."""
    check_versions(
        hello.protocol_version,
        hello.schema_version,
        supported_protocols=supported_protocols,
        server_schema=server_schema,
        min_client_schema=min_client_schema,
    )
    return HelloResponse(
        protocol_version=hello.protocol_version,
        schema_version=server_schema,
        min_client_schema_version=min_client_schema,
        server_time=server_time,
        high_water_seq=high_water_seq,
    )
