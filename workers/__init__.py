"""The Celery side of newsflow: app, queues, schedule, and thin tasks that call ``pipeline``."""
