"""The assistant's per-conversation working memory.

The planner's plan and the researcher's findings are written to memory as the workflow
goes; the writer reads them back from there. Every operation is an
``agentotel.memory(...)`` span (``create_memory``, ``search_memory``, ``delete_memory``)
with the memory metrics, and the store's size is reported on the
``agentotel.memory.record.count`` gauge. The store keeps the last
:data:`MAX_CONVERSATIONS` conversations; older ones are deleted.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import agentotel

STORE = "support-conversations"
MEMORY_TYPE = "short_term"
MAX_CONVERSATIONS = 10


@dataclass(frozen=True)
class MemoryRecord:
    """One remembered item of a conversation: ``kind`` is ``plan`` or ``findings``."""

    id: str
    kind: str
    content: str


class ConversationMemory:
    """Records by conversation id, oldest conversation first (thread-safe: the size gauge
    is read on the metric reader's thread)."""

    def __init__(self, max_conversations: int = MAX_CONVERSATIONS) -> None:
        self.max_conversations = max_conversations
        self._lock = threading.Lock()
        self._conversations: OrderedDict[str, list[MemoryRecord]] = OrderedDict()
        #: the size report; ``size_report.unregister()`` ends it.
        self.size_report = agentotel.memory_size(
            STORE, self.record_count, memory_type=MEMORY_TYPE
        )

    def record_count(self) -> int:
        """How many records the store holds now."""
        with self._lock:
            return sum(len(records) for records in self._conversations.values())

    def add(self, conversation_id: str, kind: str, content: str) -> MemoryRecord:
        """Remember ``content`` for the conversation (a ``create_memory`` span); a new
        conversation beyond :attr:`max_conversations` makes the oldest one go."""
        with agentotel.memory("create_memory", store=STORE, memory_type=MEMORY_TYPE) as op:
            with self._lock:
                records = self._conversations.setdefault(conversation_id, [])
                record = MemoryRecord(f"{conversation_id}:{len(records)}", kind, content)
                records.append(record)
                oldest = (
                    next(iter(self._conversations))
                    if len(self._conversations) > self.max_conversations
                    else None
                )
            op.record_memories([{"id": record.id, "content": content}])
        if oldest is not None:
            self.forget(oldest)
        return record

    def recall(self, conversation_id: str) -> list[MemoryRecord]:
        """The conversation's records, oldest first (a ``search_memory`` span)."""
        with agentotel.memory("search_memory", store=STORE, memory_type=MEMORY_TYPE) as op:
            op.record_query(conversation_id)
            with self._lock:
                records = list(self._conversations.get(conversation_id, ()))
            op.record_memories([{"id": r.id, "content": r.content} for r in records])
            return records

    def forget(self, conversation_id: str) -> int:
        """Delete the conversation's records (a ``delete_memory`` span); how many."""
        with agentotel.memory("delete_memory", store=STORE, memory_type=MEMORY_TYPE) as op:
            with self._lock:
                records = self._conversations.pop(conversation_id, [])
            op.record_memories(count=len(records))
            return len(records)
