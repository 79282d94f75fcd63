"""Background jobs of the showcase: the job functions, the arq task and the worker settings.

With ``REDIS_URL`` set, jobs are queued in Redis and run by a separate arq worker process::

    arq examples.showcase.jobs.WorkerSettings

Without it (the embedded default) they run as tasks of the server process. Either way the
result goes back over the channel layer to the one connection that asked, addressed by its
channel name (``BackgroundJobsConsumer.send_event``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from chanspec.runtime import register_layers

from .generated.layers import LAYERS
from .generated.messages import JobResultEvent, JobResultPayload, JobType

__all__ = ["WorkerSettings", "analyze", "compute", "enqueue", "run_job", "translate"]

QUEUE_NAME = "chanspec:showcase:jobs"
TRANSLATIONS = {
    "hello": "hola",
    "world": "mundo",
    "good morning": "buenos días",
    "thank you": "gracias",
}
_tasks: set[asyncio.Task[Any]] = set()
_pool: ArqRedis | None = None


def translate(content: str) -> str:
    """Translate a known phrase to Spanish; anything else is marked as translated."""
    translated = TRANSLATIONS.get(content.strip().lower(), f"[TRANSLATED: {content}]")
    return f"🌍 Translated: '{content}' → '{translated}'"


def analyze(content: str) -> str:
    """Count characters, words, vowels and consonants of ``content``."""
    vowels = sum(c in "aeiou" for c in content.lower())
    consonants = sum(c.isalpha() and c not in "aeiou" for c in content.lower())
    return (
        f"📊 Analysis of '{content}': characters={len(content)}, words={len(content.split())}, "
        f"vowels={vowels}, consonants={consonants}"
    )


def compute(job_type: JobType, content: str) -> str:
    """Run one job synchronously and return its result text."""
    return translate(content) if job_type is JobType.translate else analyze(content)


def _delay() -> float:
    return float(os.environ.get("SHOWCASE_JOB_DELAY", "0.2"))


async def run_job(
    ctx: dict[str, Any], job_id: str, job_type: str, content: str, channel_name: str
) -> str:
    """The arq task: compute the result, then send it to the connection that asked."""
    from .consumers.background_jobs import BackgroundJobsConsumer

    await asyncio.sleep(_delay())
    kind = JobType(job_type)
    try:
        result, ok = compute(kind, content), True
    except Exception as exc:  # a failed job is reported to the client, not lost
        result, ok = f"{type(exc).__name__}: {exc}", False
    event = JobResultEvent(
        payload=JobResultPayload(job_id=job_id, job_type=kind, ok=ok, result=result)
    )
    await BackgroundJobsConsumer.send_event(event, channel_name)
    return result


async def _get_pool(url: str) -> ArqRedis:
    global _pool
    if _pool is None:
        _pool = await create_pool(RedisSettings.from_dsn(url))
    return _pool


async def enqueue(job_type: JobType, content: str, channel_name: str) -> str:
    """Queue a job (arq when ``REDIS_URL`` is set, else an in-process task); return its id."""
    job_id = uuid.uuid4().hex[:12]
    url = os.environ.get("REDIS_URL")
    if url:
        pool = await _get_pool(url)
        await pool.enqueue_job(
            "run_job",
            job_id,
            job_type.value,
            content,
            channel_name,
            _job_id=job_id,
            _queue_name=QUEUE_NAME,
        )
    else:
        task = asyncio.create_task(run_job({}, job_id, job_type.value, content, channel_name))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    return job_id


async def _startup(ctx: dict[str, Any]) -> None:
    register_layers(LAYERS)


class WorkerSettings:
    """arq worker settings: ``arq examples.showcase.jobs.WorkerSettings``."""

    functions = [run_job]
    on_startup = _startup
    queue_name = QUEUE_NAME
    redis_settings = RedisSettings.from_dsn(os.environ.get("REDIS_URL", "redis://localhost:6379"))
    max_jobs = 20
    job_timeout = 60
