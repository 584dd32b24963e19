"""Every attribute name, metric name, unit, bucket list and operation name agentotel emits.

This module is the single place where names live. Names that exist in
``opentelemetry-semantic-conventions`` are imported from it; names that only the newer
GenAI drafts (``open-telemetry/semantic-conventions-genai``) or agentotel itself define
are spelled here once. When the specification releases one of the ``agentotel.*``
names, switch it here and nowhere else.

Sources:
- GenAI spans: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/
- GenAI agent spans: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-agent-spans/
- GenAI metrics: https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/
- Where the v1.41 text and ``opentelemetry-util-genai`` 1.3b0 (the official helper)
  differ, agentotel follows the helper (e.g. ``gen_ai.usage.cache_write.input_tokens``).
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv._incubating.attributes import cpython_attributes as _cpython
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as _genai
from opentelemetry.semconv._incubating.attributes import otel_attributes as _otel
from opentelemetry.semconv._incubating.attributes import process_attributes as _process_attrs
from opentelemetry.semconv._incubating.attributes import rpc_attributes as _rpc
from opentelemetry.semconv._incubating.attributes import service_attributes as _service_attrs
from opentelemetry.semconv._incubating.metrics import cpython_metrics as _cpython_metrics
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics as _genai_metrics
from opentelemetry.semconv._incubating.metrics import otel_metrics as _otel_metrics
from opentelemetry.semconv._incubating.metrics import process_metrics as _process_metrics
from opentelemetry.semconv._incubating.metrics import system_metrics as _system_metrics
from opentelemetry.semconv.attributes import (
    deployment_attributes as _deployment,
)
from opentelemetry.semconv.attributes import error_attributes as _error
from opentelemetry.semconv.attributes import http_attributes as _http
from opentelemetry.semconv.attributes import server_attributes as _server
from opentelemetry.semconv.attributes import service_attributes as _service

# --------------------------------------------------------------------------- resource
SERVICE_NAME: Final = _service.SERVICE_NAME
SERVICE_VERSION: Final = _service.SERVICE_VERSION
DEPLOYMENT_ENVIRONMENT_NAME: Final = _deployment.DEPLOYMENT_ENVIRONMENT_NAME

# --------------------------------------------------------------------------- common
GEN_AI_OPERATION_NAME: Final = _genai.GEN_AI_OPERATION_NAME
GEN_AI_PROVIDER_NAME: Final = _genai.GEN_AI_PROVIDER_NAME
GEN_AI_CONVERSATION_ID: Final = _genai.GEN_AI_CONVERSATION_ID
ERROR_TYPE: Final = _error.ERROR_TYPE
SERVER_ADDRESS: Final = _server.SERVER_ADDRESS
SERVER_PORT: Final = _server.SERVER_PORT
HTTP_RESPONSE_STATUS_CODE: Final = _http.HTTP_RESPONSE_STATUS_CODE

# --------------------------------------------------------------------------- operation names
OP_CHAT: Final = _genai.GenAiOperationNameValues.CHAT.value
OP_TEXT_COMPLETION: Final = _genai.GenAiOperationNameValues.TEXT_COMPLETION.value
OP_EMBEDDINGS: Final = _genai.GenAiOperationNameValues.EMBEDDINGS.value
OP_GENERATE_CONTENT: Final = _genai.GenAiOperationNameValues.GENERATE_CONTENT.value
OP_INVOKE_AGENT: Final = _genai.GenAiOperationNameValues.INVOKE_AGENT.value
OP_EXECUTE_TOOL: Final = _genai.GenAiOperationNameValues.EXECUTE_TOOL.value
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
OP_APPLY_GUARDRAIL: Final = "apply_guardrail"
LLM_OPERATIONS: Final = frozenset({OP_CHAT, OP_TEXT_COMPLETION, OP_EMBEDDINGS, OP_GENERATE_CONTENT})

# --------------------------------------------------------------------------- workflow
GEN_AI_WORKFLOW_NAME: Final = _genai.GEN_AI_WORKFLOW_NAME

# --------------------------------------------------------------------------- agent
GEN_AI_AGENT_NAME: Final = _genai.GEN_AI_AGENT_NAME
GEN_AI_AGENT_ID: Final = _genai.GEN_AI_AGENT_ID
GEN_AI_AGENT_DESCRIPTION: Final = _genai.GEN_AI_AGENT_DESCRIPTION
GEN_AI_AGENT_VERSION: Final = _genai.GEN_AI_AGENT_VERSION

# --------------------------------------------------------------------------- LLM call
GEN_AI_REQUEST_MODEL: Final = _genai.GEN_AI_REQUEST_MODEL
GEN_AI_RESPONSE_MODEL: Final = _genai.GEN_AI_RESPONSE_MODEL
GEN_AI_RESPONSE_ID: Final = _genai.GEN_AI_RESPONSE_ID
GEN_AI_RESPONSE_FINISH_REASONS: Final = _genai.GEN_AI_RESPONSE_FINISH_REASONS
GEN_AI_USAGE_INPUT_TOKENS: Final = _genai.GEN_AI_USAGE_INPUT_TOKENS
GEN_AI_USAGE_OUTPUT_TOKENS: Final = _genai.GEN_AI_USAGE_OUTPUT_TOKENS
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = _genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
# v1.41 calls it gen_ai.usage.cache_creation.input_tokens; the newer drafts and
# opentelemetry-util-genai 1.3b0 write cache_write. We follow the helper.
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
#: the v1.41 name of the cache writes, still written by some instrumentations (botocore's)
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = _genai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS

#: keyword argument of ``agentotel.llm(**request_params)`` -> span attribute.
GEN_AI_REQUEST_PARAMS: Final[dict[str, str]] = {
    "temperature": _genai.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": _genai.GEN_AI_REQUEST_TOP_P,
    "top_k": _genai.GEN_AI_REQUEST_TOP_K,
    "max_tokens": _genai.GEN_AI_REQUEST_MAX_TOKENS,
    "frequency_penalty": _genai.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": _genai.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "stop_sequences": _genai.GEN_AI_REQUEST_STOP_SEQUENCES,
    "seed": _genai.GEN_AI_REQUEST_SEED,
    "choice_count": _genai.GEN_AI_REQUEST_CHOICE_COUNT,
    "stream": _genai.GEN_AI_REQUEST_STREAM,
    "encoding_formats": _genai.GEN_AI_REQUEST_ENCODING_FORMATS,
    "output_type": _genai.GEN_AI_OUTPUT_TYPE,
}

# --------------------------------------------------------------------------- tool
GEN_AI_TOOL_NAME: Final = _genai.GEN_AI_TOOL_NAME
GEN_AI_TOOL_TYPE: Final = _genai.GEN_AI_TOOL_TYPE
GEN_AI_TOOL_CALL_ID: Final = _genai.GEN_AI_TOOL_CALL_ID
GEN_AI_TOOL_DESCRIPTION: Final = _genai.GEN_AI_TOOL_DESCRIPTION

# --------------------------------------------------------------------------- retrieval
# The retrieval span of semantic-conventions-genai ("Retrievals", docs/gen-ai/gen-ai-spans.md)
# as opentelemetry-util-genai 1.3b0 emits it (TelemetryHandler.retrieval): CLIENT span
# `retrieval {gen_ai.data_source.id}`, metric gen_ai.client.operation.duration only.
OP_RETRIEVAL: Final = _genai.GenAiOperationNameValues.RETRIEVAL.value
GEN_AI_DATA_SOURCE_ID: Final = _genai.GEN_AI_DATA_SOURCE_ID
# util-genai 1.3b0 writes gen_ai.retrieval.top_k (the semconv package has no constant); the
# newer draft lists gen_ai.request.top_k on the retrieval span. We follow the helper.
GEN_AI_RETRIEVAL_TOP_K: Final = "gen_ai.retrieval.top_k"
GEN_AI_RETRIEVAL_QUERY_TEXT: Final = _genai.GEN_AI_RETRIEVAL_QUERY_TEXT  # opt-in content
GEN_AI_RETRIEVAL_DOCUMENTS: Final = _genai.GEN_AI_RETRIEVAL_DOCUMENTS  # opt-in content (JSON)
RETRIEVAL_CONTENT_ATTRIBUTES: Final = (GEN_AI_RETRIEVAL_QUERY_TEXT, GEN_AI_RETRIEVAL_DOCUMENTS)
# No convention counts the documents; agentotel's own (not content: a number).
RETRIEVAL_DOCUMENT_COUNT: Final = "agentotel.retrieval.document.count"

# --------------------------------------------------------------------------- memory
# The memory spans of semantic-conventions-genai ("Memory", docs/gen-ai/gen-ai-spans.md,
# added by open-telemetry/semantic-conventions-genai#140; read at commit 002c8a6e): span
# name `{gen_ai.operation.name}`, kind CLIENT (MAY be INTERNAL in-process). No metrics
# there and no memory type: those are agentotel's own.
OP_CREATE_MEMORY_STORE: Final = "create_memory_store"
OP_DELETE_MEMORY_STORE: Final = "delete_memory_store"
OP_CREATE_MEMORY: Final = "create_memory"
OP_UPDATE_MEMORY: Final = "update_memory"
OP_UPSERT_MEMORY: Final = "upsert_memory"
OP_SEARCH_MEMORY: Final = "search_memory"
OP_DELETE_MEMORY: Final = "delete_memory"
MEMORY_OPERATIONS: Final = (
    OP_CREATE_MEMORY_STORE,
    OP_DELETE_MEMORY_STORE,
    OP_CREATE_MEMORY,
    OP_UPDATE_MEMORY,
    OP_UPSERT_MEMORY,
    OP_SEARCH_MEMORY,
    OP_DELETE_MEMORY,
)
#: Plain words ``agentotel.memory()`` also accepts, each mapped to one draft operation
#: ("store" does not say whether the record exists: the draft's upsert_memory).
MEMORY_OPERATION_ALIASES: Final[dict[str, str]] = {
    "store": OP_UPSERT_MEMORY,
    "retrieve": OP_SEARCH_MEMORY,
    "search": OP_SEARCH_MEMORY,
    "update": OP_UPDATE_MEMORY,
    "delete": OP_DELETE_MEMORY,
}
GEN_AI_MEMORY_STORE_ID: Final = "gen_ai.memory.store.id"
GEN_AI_MEMORY_RECORD_ID: Final = "gen_ai.memory.record.id"
GEN_AI_MEMORY_RECORD_COUNT: Final = "gen_ai.memory.record.count"
GEN_AI_MEMORY_QUERY_TEXT: Final = "gen_ai.memory.query.text"  # opt-in content
GEN_AI_MEMORY_RECORDS: Final = "gen_ai.memory.records"  # opt-in content (JSON)
MEMORY_CONTENT_ATTRIBUTES: Final = (GEN_AI_MEMORY_QUERY_TEXT, GEN_AI_MEMORY_RECORDS)
MEMORY_TYPE: Final = "agentotel.memory.type"  # short_term, long_term, vector, episodic, ...
MEMORY_OUTCOME: Final = "agentotel.memory.outcome"
MEMORY_OUTCOME_SUCCESS: Final = "success"
MEMORY_OUTCOME_ERROR: Final = "error"
METRIC_MEMORY_OPERATION_DURATION: Final = "agentotel.memory.operation.duration"  # s
METRIC_MEMORY_OPERATIONS: Final = "agentotel.memory.operations"
METRIC_MEMORY_SIZE: Final = "agentotel.memory.size"  # observable gauge, By
METRIC_MEMORY_RECORD_COUNT: Final = "agentotel.memory.record.count"  # observable gauge
UNIT_OPERATIONS: Final = "{operation}"
UNIT_BYTES: Final = "By"
UNIT_RECORDS: Final = "{record}"
#: ``agentotel.memory_size(unit=...)`` -> the gauge it reports on.
MEMORY_SIZE_UNITS: Final[dict[str, str]] = {
    "record": METRIC_MEMORY_RECORD_COUNT,
    "By": METRIC_MEMORY_SIZE,
}
PROM_MEMORY_OPERATION_DURATION: Final = "agentotel_memory_operation_duration_seconds"
PROM_MEMORY_OPERATIONS: Final = "agentotel_memory_operations_total"
PROM_MEMORY_SIZE: Final = "agentotel_memory_size_bytes"
PROM_MEMORY_RECORD_COUNT: Final = "agentotel_memory_record_count"

# --------------------------------------------------------------------------- content (opt-in)
GEN_AI_INPUT_MESSAGES: Final = _genai.GEN_AI_INPUT_MESSAGES
GEN_AI_OUTPUT_MESSAGES: Final = _genai.GEN_AI_OUTPUT_MESSAGES
GEN_AI_SYSTEM_INSTRUCTIONS: Final = _genai.GEN_AI_SYSTEM_INSTRUCTIONS
GEN_AI_TOOL_CALL_ARGUMENTS: Final = _genai.GEN_AI_TOOL_CALL_ARGUMENTS
GEN_AI_TOOL_CALL_RESULT: Final = _genai.GEN_AI_TOOL_CALL_RESULT
CONTENT_ATTRIBUTES: Final = (
    GEN_AI_INPUT_MESSAGES,
    GEN_AI_OUTPUT_MESSAGES,
    GEN_AI_SYSTEM_INSTRUCTIONS,
    GEN_AI_TOOL_CALL_ARGUMENTS,
    GEN_AI_TOOL_CALL_RESULT,
    *RETRIEVAL_CONTENT_ATTRIBUTES,
    *MEMORY_CONTENT_ATTRIBUTES,
)
#: the spec's event for inference details (content in structured form).
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"

# --------------------------------------------------------------------------- guardrail
# The spec's guardrail names are not released yet.
GUARDRAIL_NAME: Final = "agentotel.guardrail.name"
GUARDRAIL_TARGET: Final = "agentotel.guardrail.target"
GUARDRAIL_VERDICT: Final = "agentotel.guardrail.verdict"
GUARDRAIL_REASON: Final = "agentotel.guardrail.reason"
GUARDRAIL_CATEGORIES: Final = "agentotel.guardrail.categories"
GUARDRAIL_VERDICTS: Final = ("allow", "deny", "modify", "warn")
GUARDRAIL_DEFAULT_VERDICT: Final = "allow"

# --------------------------------------------------------------------------- cost
LLM_COST_USD: Final = "agentotel.llm.cost_usd"

# --------------------------------------------------------------------------- evaluation
# The gen_ai.evaluation.result event (GenAI events, semantic-conventions-genai
# model/gen-ai/events.yaml): one evaluation of a GenAI operation's output, parented to the
# evaluated span. Its attribute names are in opentelemetry-semantic-conventions; the event
# name is not. gen_ai.response.id and error.type are the names above. The score histogram
# is agentotel's own (the conventions define no evaluation metric).
EVENT_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME: Final = _genai.GEN_AI_EVALUATION_NAME
GEN_AI_EVALUATION_SCORE_VALUE: Final = _genai.GEN_AI_EVALUATION_SCORE_VALUE
GEN_AI_EVALUATION_SCORE_LABEL: Final = _genai.GEN_AI_EVALUATION_SCORE_LABEL
GEN_AI_EVALUATION_EXPLANATION: Final = _genai.GEN_AI_EVALUATION_EXPLANATION
METRIC_EVALUATION_SCORE: Final = "agentotel.evaluation.score"
UNIT_EVALUATION_SCORE: Final = "1"
#: scores are usually in [0, 1]: one bucket for exactly 0, then tenths up to 1, then above 1.
BUCKETS_EVALUATION_SCORE: Final = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
#: the unit 1 adds no suffix to a histogram's Prometheus name
PROM_EVALUATION_SCORE: Final = "agentotel_evaluation_score"

# --------------------------------------------------------------------------- metrics
GEN_AI_TOKEN_TYPE: Final = _genai.GEN_AI_TOKEN_TYPE
TOKEN_TYPE_INPUT: Final = _genai.GenAiTokenTypeValues.INPUT.value
TOKEN_TYPE_OUTPUT: Final = _genai.GenAiTokenTypeValues.OUTPUT.value

METRIC_OPERATION_DURATION: Final = _genai_metrics.GEN_AI_CLIENT_OPERATION_DURATION
METRIC_TOKEN_USAGE: Final = _genai_metrics.GEN_AI_CLIENT_TOKEN_USAGE
METRIC_INVOKE_AGENT_DURATION: Final = "gen_ai.invoke_agent.duration"
METRIC_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
METRIC_INVOKE_WORKFLOW_DURATION: Final = "gen_ai.invoke_workflow.duration"
METRIC_GUARDRAIL_CHECKS: Final = "agentotel.guardrail.checks"
METRIC_LLM_COST: Final = "agentotel.llm.cost"
METRIC_AGENT_ACTIVE: Final = "agentotel.agent.active"

UNIT_SECONDS: Final = "s"
UNIT_TOKENS: Final = "{token}"
UNIT_CHECKS: Final = "{check}"
UNIT_USD: Final = "USD"
UNIT_INVOCATIONS: Final = "{invocation}"

# Advised bucket boundaries (GenAI metrics spec; same lists as opentelemetry-util-genai).
BUCKETS_OPERATION_DURATION: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
BUCKETS_TOKEN_USAGE: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)
BUCKETS_INVOKE_AGENT_DURATION: Final = (
    0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 102.4, 204.8, 409.6,
)
BUCKETS_EXECUTE_TOOL_DURATION: Final = BUCKETS_OPERATION_DURATION
BUCKETS_INVOKE_WORKFLOW_DURATION: Final = (
    1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
)

# --------------------------------------------------------------------------- cardinality
# Metrics SDK specification, "Cardinality limits": the default limit per metric and the
# attribute of the overflow series (the only attribute of that series).
CARDINALITY_LIMIT: Final = 2000
OTEL_METRIC_OVERFLOW: Final = "otel.metric.overflow"

# --------------------------------------------------------------------------- Prometheus names
# What the metrics above are called after OTel -> Prometheus translation (dots become
# underscores, the unit is appended, counters get _total, curly-brace units are dropped).
PROM_OPERATION_DURATION: Final = "gen_ai_client_operation_duration_seconds"
PROM_TOKEN_USAGE: Final = "gen_ai_client_token_usage"
PROM_INVOKE_AGENT_DURATION: Final = "gen_ai_invoke_agent_duration_seconds"
PROM_EXECUTE_TOOL_DURATION: Final = "gen_ai_execute_tool_duration_seconds"
PROM_INVOKE_WORKFLOW_DURATION: Final = "gen_ai_invoke_workflow_duration_seconds"
PROM_GUARDRAIL_CHECKS: Final = "agentotel_guardrail_checks_total"
PROM_LLM_COST: Final = "agentotel_llm_cost_USD_total"
PROM_AGENT_ACTIVE: Final = "agentotel_agent_active"

# --------------------------------------------------------------------------- streaming
# A streamed LLM call, as opentelemetry-util-genai 1.3b0 records it (``_on_stream_chunk``,
# ``stream.py``): both metrics use the operation-duration buckets and its attributes.
GEN_AI_REQUEST_STREAM: Final = _genai.GEN_AI_REQUEST_STREAM
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = _genai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
METRIC_TIME_TO_FIRST_CHUNK: Final = _genai_metrics.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK
METRIC_TIME_PER_OUTPUT_CHUNK: Final = _genai_metrics.GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK
BUCKETS_TIME_TO_FIRST_CHUNK: Final = BUCKETS_OPERATION_DURATION
BUCKETS_TIME_PER_OUTPUT_CHUNK: Final = BUCKETS_OPERATION_DURATION
PROM_TIME_TO_FIRST_CHUNK: Final = "gen_ai_client_operation_time_to_first_chunk_seconds"
PROM_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai_client_operation_time_per_output_chunk_seconds"
#: ``error.type`` and status description of a stream garbage-collected before it was
#: exhausted or closed (util-genai's ``AbandonedStreamError``).
ERROR_TYPE_OTHER: Final = _error.ErrorTypeValues.OTHER.value
ABANDONED_STREAM: Final = "abandoned stream"

# --------------------------------------------------------------------------- embeddings
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = _genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT
GEN_AI_REQUEST_ENCODING_FORMATS: Final = _genai.GEN_AI_REQUEST_ENCODING_FORMATS

# --------------------------------------------------------------------------- the pipeline itself
# The OpenTelemetry SDK's own metrics ("Semantic conventions for OpenTelemetry SDK metrics",
# https://opentelemetry.io/docs/specs/semconv/otel/sdk-metrics/), as opentelemetry-sdk 1.45
# records them once switched on, and as agentotel records the exporter ones (agentotel._health).
# `otel.sdk.span.ended` is obsolete in the conventions: started minus live.
METRIC_SDK_SPAN_STARTED: Final = _otel_metrics.OTEL_SDK_SPAN_STARTED
METRIC_SDK_SPAN_LIVE: Final = _otel_metrics.OTEL_SDK_SPAN_LIVE
METRIC_SDK_LOG_CREATED: Final = _otel_metrics.OTEL_SDK_LOG_CREATED
METRIC_SDK_SPAN_PROCESSED: Final = _otel_metrics.OTEL_SDK_PROCESSOR_SPAN_PROCESSED
METRIC_SDK_SPAN_QUEUE_SIZE: Final = _otel_metrics.OTEL_SDK_PROCESSOR_SPAN_QUEUE_SIZE
METRIC_SDK_SPAN_QUEUE_CAPACITY: Final = _otel_metrics.OTEL_SDK_PROCESSOR_SPAN_QUEUE_CAPACITY
METRIC_SDK_LOG_PROCESSED: Final = _otel_metrics.OTEL_SDK_PROCESSOR_LOG_PROCESSED
METRIC_SDK_LOG_QUEUE_SIZE: Final = _otel_metrics.OTEL_SDK_PROCESSOR_LOG_QUEUE_SIZE
METRIC_SDK_LOG_QUEUE_CAPACITY: Final = _otel_metrics.OTEL_SDK_PROCESSOR_LOG_QUEUE_CAPACITY
METRIC_SDK_SPAN_EXPORTED: Final = _otel_metrics.OTEL_SDK_EXPORTER_SPAN_EXPORTED
METRIC_SDK_SPAN_INFLIGHT: Final = _otel_metrics.OTEL_SDK_EXPORTER_SPAN_INFLIGHT
METRIC_SDK_LOG_EXPORTED: Final = _otel_metrics.OTEL_SDK_EXPORTER_LOG_EXPORTED
METRIC_SDK_LOG_INFLIGHT: Final = _otel_metrics.OTEL_SDK_EXPORTER_LOG_INFLIGHT
METRIC_SDK_METRIC_POINT_EXPORTED: Final = _otel_metrics.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_EXPORTED
METRIC_SDK_METRIC_POINT_INFLIGHT: Final = _otel_metrics.OTEL_SDK_EXPORTER_METRIC_DATA_POINT_INFLIGHT
METRIC_SDK_EXPORT_DURATION: Final = _otel_metrics.OTEL_SDK_EXPORTER_OPERATION_DURATION
METRIC_SDK_COLLECTION_DURATION: Final = _otel_metrics.OTEL_SDK_METRIC_READER_COLLECTION_DURATION
#: the conventions advise no buckets for the two durations (the SDK's default buckets are
#: 0, 5, 10 ... 10000 - made for milliseconds); exports take milliseconds to the timeout
BUCKETS_SDK_DURATION: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
UNIT_SPANS: Final = "{span}"
UNIT_LOG_RECORDS: Final = "{log_record}"
OTEL_SPAN_PARENT_ORIGIN: Final = _otel.OTEL_SPAN_PARENT_ORIGIN
OTEL_SPAN_SAMPLING_RESULT: Final = _otel.OTEL_SPAN_SAMPLING_RESULT
SPAN_PARENT_ORIGIN_NONE: Final = _otel.OtelSpanParentOriginValues.NONE.value
SPAN_PARENT_ORIGIN_LOCAL: Final = _otel.OtelSpanParentOriginValues.LOCAL.value
SPAN_PARENT_ORIGIN_REMOTE: Final = _otel.OtelSpanParentOriginValues.REMOTE.value
_SAMPLING_RESULTS = _otel.OtelSpanSamplingResultValues
SAMPLING_RESULT_RECORD_AND_SAMPLE: Final = _SAMPLING_RESULTS.RECORD_AND_SAMPLE.value
SAMPLING_RESULT_RECORD_ONLY: Final = _SAMPLING_RESULTS.RECORD_ONLY.value
SAMPLING_RESULT_DROP: Final = _SAMPLING_RESULTS.DROP.value
#: the meter the SDK's own recorders use (agentotel's exporter recorder uses it too)
SDK_METER_SCOPE: Final = "opentelemetry-sdk"
OTEL_COMPONENT_TYPE: Final = _otel.OTEL_COMPONENT_TYPE
OTEL_COMPONENT_NAME: Final = _otel.OTEL_COMPONENT_NAME
RPC_RESPONSE_STATUS_CODE: Final = _rpc.RPC_RESPONSE_STATUS_CODE
#: `error.type` of the items a batching processor drops (the conventions' values)
ERROR_TYPE_QUEUE_FULL: Final = "queue_full"
ERROR_TYPE_ALREADY_SHUTDOWN: Final = "already_shutdown"
#: `otel.component.type` of the OTLP exporters, by (signal, protocol)
OTLP_EXPORTER_COMPONENT_TYPES: Final[dict[tuple[str, str], str]] = {
    ("traces", "http/protobuf"): _otel.OtelComponentTypeValues.OTLP_HTTP_SPAN_EXPORTER.value,
    ("traces", "grpc"): _otel.OtelComponentTypeValues.OTLP_GRPC_SPAN_EXPORTER.value,
    ("metrics", "http/protobuf"): _otel.OtelComponentTypeValues.OTLP_HTTP_METRIC_EXPORTER.value,
    ("metrics", "grpc"): _otel.OtelComponentTypeValues.OTLP_GRPC_METRIC_EXPORTER.value,
    ("logs", "http/protobuf"): _otel.OtelComponentTypeValues.OTLP_HTTP_LOG_EXPORTER.value,
    ("logs", "grpc"): _otel.OtelComponentTypeValues.OTLP_GRPC_LOG_EXPORTER.value,
}
BATCHING_SPAN_PROCESSOR: Final = _otel.OtelComponentTypeValues.BATCHING_SPAN_PROCESSOR
BATCHING_LOG_PROCESSOR: Final = _otel.OtelComponentTypeValues.BATCHING_LOG_PROCESSOR

PROM_SDK_SPAN_STARTED: Final = "otel_sdk_span_started_total"
PROM_SDK_SPAN_LIVE: Final = "otel_sdk_span_live"
PROM_SDK_LOG_CREATED: Final = "otel_sdk_log_created_total"
PROM_SDK_SPAN_PROCESSED: Final = "otel_sdk_processor_span_processed_total"
PROM_SDK_SPAN_QUEUE_SIZE: Final = "otel_sdk_processor_span_queue_size"
PROM_SDK_SPAN_QUEUE_CAPACITY: Final = "otel_sdk_processor_span_queue_capacity"
PROM_SDK_LOG_PROCESSED: Final = "otel_sdk_processor_log_processed_total"
PROM_SDK_LOG_QUEUE_SIZE: Final = "otel_sdk_processor_log_queue_size"
PROM_SDK_LOG_QUEUE_CAPACITY: Final = "otel_sdk_processor_log_queue_capacity"
PROM_SDK_SPAN_EXPORTED: Final = "otel_sdk_exporter_span_exported_total"
PROM_SDK_SPAN_INFLIGHT: Final = "otel_sdk_exporter_span_inflight"
PROM_SDK_LOG_EXPORTED: Final = "otel_sdk_exporter_log_exported_total"
PROM_SDK_LOG_INFLIGHT: Final = "otel_sdk_exporter_log_inflight"
PROM_SDK_METRIC_POINT_EXPORTED: Final = "otel_sdk_exporter_metric_data_point_exported_total"
PROM_SDK_METRIC_POINT_INFLIGHT: Final = "otel_sdk_exporter_metric_data_point_inflight"
PROM_SDK_EXPORT_DURATION: Final = "otel_sdk_exporter_operation_duration_seconds"
PROM_SDK_COLLECTION_DURATION: Final = "otel_sdk_metric_reader_collection_duration_seconds"
# --------------------------------------------------------------------------- process and host
# What opentelemetry-instrumentation-system-metrics (0.66b2) reports for the metrics
# init() asks it for (agentotel/integrations/_system_metrics.py): the current process and
# CPython names only, none of its deprecated process.runtime.* ones. Attributes as it
# writes them: process.cpu.time `type` (user, system; the convention's cpu.mode is not
# used by the instrumentor yet), cpython.gc.* `cpython.gc.generation` (and a deprecated
# `generation` copy), system.cpu.time `cpu` and `state`, system.memory.usage `state`.
METRIC_PROCESS_CPU_TIME: Final = _process_metrics.PROCESS_CPU_TIME  # counter, s
METRIC_PROCESS_MEMORY_USAGE: Final = _process_metrics.PROCESS_MEMORY_USAGE  # resident, By
METRIC_PROCESS_THREAD_COUNT: Final = _process_metrics.PROCESS_THREAD_COUNT
METRIC_CPYTHON_GC_COLLECTIONS: Final = _cpython_metrics.CPYTHON_GC_COLLECTIONS
METRIC_CPYTHON_GC_COLLECTED_OBJECTS: Final = _cpython_metrics.CPYTHON_GC_COLLECTED_OBJECTS
METRIC_CPYTHON_GC_UNCOLLECTABLE_OBJECTS: Final = _cpython_metrics.CPYTHON_GC_UNCOLLECTABLE_OBJECTS
METRIC_SYSTEM_CPU_TIME: Final = _system_metrics.SYSTEM_CPU_TIME  # counter, s; host level
METRIC_SYSTEM_MEMORY_USAGE: Final = _system_metrics.SYSTEM_MEMORY_USAGE  # By; host level
CPYTHON_GC_GENERATION: Final = _cpython.CPYTHON_GC_GENERATION
#: The attribute values the instrumentor reports each metric with (its ``config``): the
#: psutil fields it reads. ``None``: the metric has no such attribute.
PROCESS_CPU_TIME_TYPES: Final = ("user", "system")
SYSTEM_CPU_TIME_STATES: Final = ("user", "system", "idle", "iowait")
#: the convention's states; psutil's used is total - available, so they overlap (cached)
SYSTEM_MEMORY_STATES: Final = ("used", "free", "buffers", "cached")
# Prometheus names (the Python exporter and the Collector's agree on these: no unit-1
# gauge, whose `_ratio` suffix only the Collector would add).
PROM_PROCESS_CPU_TIME: Final = "process_cpu_time_seconds_total"
PROM_PROCESS_MEMORY_USAGE: Final = "process_memory_usage_bytes"
PROM_PROCESS_THREAD_COUNT: Final = "process_thread_count"
PROM_CPYTHON_GC_COLLECTIONS: Final = "cpython_gc_collections_total"
PROM_CPYTHON_GC_COLLECTED_OBJECTS: Final = "cpython_gc_collected_objects_total"
PROM_CPYTHON_GC_UNCOLLECTABLE_OBJECTS: Final = "cpython_gc_uncollectable_objects_total"
PROM_SYSTEM_CPU_TIME: Final = "system_cpu_time_seconds_total"
PROM_SYSTEM_MEMORY_USAGE: Final = "system_memory_usage_bytes"

# --------------------------------------------------------------------------- scope
INSTRUMENTATION_SCOPE: Final = "agentotel"

# --------------------------------------------------------------------------- uploaded content
# Where util-genai's upload completion hook (OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK=upload)
# wrote a call's messages: its `<content attribute>_ref` names.
GEN_AI_INPUT_MESSAGES_REF: Final = GEN_AI_INPUT_MESSAGES + "_ref"
GEN_AI_OUTPUT_MESSAGES_REF: Final = GEN_AI_OUTPUT_MESSAGES + "_ref"
GEN_AI_SYSTEM_INSTRUCTIONS_REF: Final = GEN_AI_SYSTEM_INSTRUCTIONS + "_ref"

# --------------------------------------------------------------------------- handoffs
# One agent passing control to another. Modelled as semantic-conventions-genai PR #98 does
# (an `execute_tool transfer_to_{target}` span, as the OpenAI Agents SDK presents a
# handoff to the model); its source and target attributes are not released, and the
# review of PR #447 asks for the target in dedicated attributes, gen_ai.agent.name keeping
# the agent that executes the tool (the source): agentotel's own names until released.
HANDOFF_TOOL_PREFIX: Final = "transfer_to_"
HANDOFF_SOURCE_AGENT_NAME: Final = "agentotel.handoff.source.agent.name"
HANDOFF_SOURCE_AGENT_ID: Final = "agentotel.handoff.source.agent.id"
HANDOFF_TARGET_AGENT_NAME: Final = "agentotel.handoff.target.agent.name"
HANDOFF_TARGET_AGENT_ID: Final = "agentotel.handoff.target.agent.id"
#: on the link from the target's invoke_agent span to the handoff span
LINK_HANDOFF: Final = "agentotel.link.handoff"
METRIC_AGENT_HANDOFFS: Final = "agentotel.agent.handoffs"
UNIT_HANDOFFS: Final = "{handoff}"
PROM_AGENT_HANDOFFS: Final = "agentotel_agent_handoffs_total"

# --------------------------------------------------------------------------- process models
#: the resource's process id: set at start-up and again in each forked worker
PROCESS_PID: Final = _process_attrs.PROCESS_PID
SERVICE_INSTANCE_ID: Final = _service_attrs.SERVICE_INSTANCE_ID

# --------------------------------------------------------------------------- MCP
# Model Context Protocol (semantic-conventions-genai docs/gen-ai/mcp.md, Development; the
# names moved there from core semantic-conventions v1.39; opentelemetry-semantic-conventions
# 0.66 still ships them as deprecated `mcp_attributes`, so they are spelled here).
# Spans `{mcp.method.name} {target}`: CLIENT on the sender, SERVER on the receiver.
MCP_METHOD_NAME: Final = "mcp.method.name"
MCP_PROTOCOL_VERSION: Final = "mcp.protocol.version"
MCP_SESSION_ID: Final = "mcp.session.id"
MCP_RESOURCE_URI: Final = "mcp.resource.uri"
JSONRPC_REQUEST_ID: Final = "jsonrpc.request.id"
GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
NETWORK_TRANSPORT: Final = "network.transport"
NETWORK_PROTOCOL_NAME: Final = "network.protocol.name"
NETWORK_PROTOCOL_VERSION: Final = "network.protocol.version"
CLIENT_ADDRESS: Final = "client.address"
CLIENT_PORT: Final = "client.port"
NETWORK_TRANSPORT_PIPE: Final = "pipe"  # stdio
NETWORK_TRANSPORT_TCP: Final = "tcp"  # Streamable HTTP
NETWORK_PROTOCOL_HTTP: Final = "http"
#: ``error.type`` of a ``tools/call`` whose result has ``isError: true``
MCP_ERROR_TOOL: Final = "tool_error"
MCP_METHOD_TOOLS_CALL: Final = "tools/call"
MCP_METHOD_PROMPTS_GET: Final = "prompts/get"
#: the methods whose params carry ``uri`` (recorded as ``mcp.resource.uri``)
MCP_RESOURCE_METHODS: Final = frozenset(
    {"resources/read", "resources/subscribe", "resources/unsubscribe",
     "notifications/resources/updated"}
)
#: where the stateless 2026-07-28 revision carries the protocol version (``params._meta``)
MCP_META_PROTOCOL_VERSION: Final = "io.modelcontextprotocol/protocolVersion"
#: the Streamable HTTP header of the session id
MCP_SESSION_ID_HEADER: Final = "mcp-session-id"
METRIC_MCP_CLIENT_OPERATION_DURATION: Final = "mcp.client.operation.duration"
METRIC_MCP_SERVER_OPERATION_DURATION: Final = "mcp.server.operation.duration"
METRIC_MCP_CLIENT_SESSION_DURATION: Final = "mcp.client.session.duration"
METRIC_MCP_SERVER_SESSION_DURATION: Final = "mcp.server.session.duration"
BUCKETS_MCP_DURATION: Final = (
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
)
PROM_MCP_CLIENT_OPERATION_DURATION: Final = "mcp_client_operation_duration_seconds"
PROM_MCP_SERVER_OPERATION_DURATION: Final = "mcp_server_operation_duration_seconds"
PROM_MCP_CLIENT_SESSION_DURATION: Final = "mcp_client_session_duration_seconds"
PROM_MCP_SERVER_SESSION_DURATION: Final = "mcp_server_session_duration_seconds"

# --------------------------------------------------------------------------- A2A
# Agent2Agent protocol (semantic-conventions-genai docs/gen-ai/a2a.md, Development): spans
# `{a2a.method.name}`, CLIENT on the caller, SERVER on the agent; the conventions define
# no A2A metric. The remote agent's `invoke_agent` CLIENT span is the layer above.
A2A_METHOD_NAME: Final = "a2a.method.name"
A2A_MESSAGE_ID: Final = "a2a.message.id"
A2A_TASK_ID: Final = "a2a.task.id"
A2A_TASK_STATE: Final = "a2a.task.state"
A2A_TENANT: Final = "a2a.tenant"
A2A_PROTOCOL_VERSION: Final = "a2a.protocol.version"
#: a2a-sdk's client method -> the protocol's method name (the span name)
A2A_CLIENT_METHODS: Final[dict[str, str]] = {
    "send_message": "SendMessage",
    "send_message_streaming": "SendStreamingMessage",
    "get_task": "GetTask",
    "list_tasks": "ListTasks",
    "cancel_task": "CancelTask",
    "subscribe": "SubscribeToTask",
    "get_extended_agent_card": "GetExtendedAgentCard",
    "create_task_push_notification_config": "CreateTaskPushNotificationConfig",
    "get_task_push_notification_config": "GetTaskPushNotificationConfig",
    "list_task_push_notification_configs": "ListTaskPushNotificationConfigs",
    "delete_task_push_notification_config": "DeleteTaskPushNotificationConfig",
}
#: a2a-sdk's server request handler method -> the protocol's method name
A2A_SERVER_METHODS: Final[dict[str, str]] = {
    "on_message_send": "SendMessage",
    "on_message_send_stream": "SendStreamingMessage",
    "on_get_task": "GetTask",
    "on_list_tasks": "ListTasks",
    "on_cancel_task": "CancelTask",
    "on_subscribe_to_task": "SubscribeToTask",
    "on_get_extended_agent_card": "GetExtendedAgentCard",
    "on_create_task_push_notification_config": "CreateTaskPushNotificationConfig",
    "on_get_task_push_notification_config": "GetTaskPushNotificationConfig",
    "on_list_task_push_notification_configs": "ListTaskPushNotificationConfigs",
    "on_delete_task_push_notification_config": "DeleteTaskPushNotificationConfig",
}
#: the methods whose response is a stream: their spans last until the stream ends
A2A_STREAMING_METHODS: Final = frozenset({"SendStreamingMessage", "SubscribeToTask"})
