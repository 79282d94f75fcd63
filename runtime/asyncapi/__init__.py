"""AsyncAPI 3.0 emission from live consumer classes (see :mod:`.emit`)."""

from .emit import build_document, consumer_routes, dump_json, dump_yaml
from .schemas import PayloadSchemas, payload_schema

__all__ = [
    "PayloadSchemas",
    "build_document",
    "consumer_routes",
    "dump_json",
    "dump_yaml",
    "payload_schema",
]
