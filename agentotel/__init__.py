"""agentotel: OpenTelemetry-native instrumentation for agentic AI applications."""
