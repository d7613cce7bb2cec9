"""The dashboard: a read-only view of what the router decided, what it cost and what it saved.

The router's hot path only hands decisions and outcomes to an :class:`~.feed.ActivityFeed`
(one list append). The feed turns them into small JSON events without message content, writes
them to a bounded journal (in memory, or a Redis stream that replicas share), and an
:class:`~.view.ActivityView` folds the journal into what the read API (``/ui/api/v1``) and the
page (``/ui``) show.
"""
