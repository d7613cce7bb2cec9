"""Optional OpenTelemetry spans for Route, ReportOutcome and Execute (``--otel``).

Each span carries the decision id, the role, the chosen endpoint and the
error reason, never message content, so that a trace answers "which model
served this turn, and why" next to the rest of an application's traces.
``--otel console`` writes spans as JSON lines to stderr; ``--otel otlp``
exports to the collector that the standard OTEL_EXPORTER_OTLP_* variables
name (this needs the opentelemetry-exporter-otlp package).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, SpanExporter

from rolemodel_router import __version__


def exporter(kind: str) -> tuple[SpanExporter, bool]:
    """The span exporter for ``--otel KIND``, and whether to batch it."""
    if kind == "console":
        return ConsoleSpanExporter(out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"), False
    if kind == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # noqa: PLC0415 - optional
        except ImportError as error:
            raise ValueError("--otel otlp needs: pip install opentelemetry-exporter-otlp") from error
        return OTLPSpanExporter(), True
    raise ValueError(f"--otel must be console or otlp, not {kind!r}")


class Tracing:
    def __init__(self, kind: str) -> None:
        span_exporter, batch = exporter(kind)
        provider = TracerProvider(
            resource=Resource.create({"service.name": "rolemodel-router", "service.version": __version__})
        )
        provider.add_span_processor(BatchSpanProcessor(span_exporter) if batch else SimpleSpanProcessor(span_exporter))
        self.provider = provider
        self.tracer = provider.get_tracer("rolemodel_router", __version__)

    @contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[trace.Span]:
        with self.tracer.start_as_current_span(name, attributes=attributes) as span:
            yield span

    def shutdown(self) -> None:
        self.provider.shutdown()
