"""The Celery application both sides share: the worker consumes from it, front ends send to it.

Jobs are acknowledged late (after the answer is pushed), and a job whose worker is killed is
put back: at once when Celery sees the worker process die, else by the Redis transport once
``visibility_timeout`` has passed without an acknowledgement. A job that fails on bad input
is answered with the error, never retried.
"""

from __future__ import annotations

from celery import Celery

TASK_NAME = "pixelpainter.colorize"


def queue_name(prefix: str) -> str:
    """The Redis list the jobs wait in (one per ``REDIS_PREFIX``)."""
    return f"{prefix}:colorize"


def create_celery(redis_url: str, *, prefix: str, visibility_timeout_s: float = 60.0) -> Celery:
    """A Celery app on the Redis broker at ``redis_url``; results go back outside Celery."""
    app = Celery("pixelpainter", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_default_queue=queue_name(prefix),
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # the answer goes to the caller's own Redis list
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One job reserved per pool thread: a worker that dies holds few jobs back.
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": visibility_timeout_s,
            # Look for jobs of dead workers every few seconds (kombu's default sweep: ~100 s).
            "unacked_restore_interval": min(10.0, max(1.0, visibility_timeout_s / 3)),
            "unacked_restore_throttle": 1,
            # The sweep's lock: a worker killed while holding it must not stall sweeps for the
            # default 5 minutes (a sweep takes milliseconds).
            "unacked_mutex_expire": 10,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a restarting Redis is waited for
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,  # no broadcast queues in Redis; workers heartbeat
        worker_send_task_events=False,
    )
    return app
