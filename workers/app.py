"""The Celery app: Redis broker, JSON only, late acks, and the beat schedule of the dispatcher."""

from __future__ import annotations

from celery import Celery

from pipeline.errors import ConfigError
from pipeline.settings import Settings
from workers.queues import ROUTES


def celery_config(settings: Settings) -> dict[str, object]:
    """The Celery settings newsflow runs with (see DESIGN.md, Delivery and failure)."""
    if not settings.redis_url:
        raise ConfigError(
            "NEWSFLOW_REDIS_URL is not set: use `newsflow worker` / `newsflow beat`, "
            "which start or join the embedded Redis, or point it at your Redis"
        )
    return {
        "broker_url": settings.redis_url,
        "broker_connection_retry_on_startup": True,
        # Kombu's Redis transport redelivers a message not acknowledged within this many seconds:
        # no task, retry countdown or ETA may outlast it.
        "broker_transport_options": {"visibility_timeout": settings.visibility_timeout},
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A task that raised out of our error handling (Redis down mid-task) is not acknowledged:
        # it comes back after the visibility timeout instead of being lost.
        "task_acks_on_failure_or_timeout": False,
        "worker_prefetch_multiplier": 1,
        "task_routes": ROUTES,
        "task_default_queue": "poll",
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "beat_schedule": {
            "trim-topics": {"task": "newsflow.trim_topics", "schedule": 60.0, "options": {"expires": 120}},
            "dispatch-due-feeds": {
                "task": "newsflow.dispatch_due_feeds",
                "schedule": settings.dispatch_every,
                # A dispatch that waited longer than a cycle is stale: the next one supersedes it.
                "options": {"expires": max(settings.dispatch_every * 2, 10)},
            },
            # WebSub: renew leases before they end, retry failed requests (a no-op when not configured).
            "websub-renew": {"task": "newsflow.websub_renew", "schedule": 60.0, "options": {"expires": 120}},
        },
    }


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from ``settings`` (default: the environment)."""
    settings = settings or Settings()
    celery = Celery("newsflow", include=["workers.tasks", "workers.websub_tasks"])
    celery.conf.update(celery_config(settings))
    return celery


app = create_app()
