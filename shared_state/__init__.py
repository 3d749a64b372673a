"""State that several processes must agree on, kept in Redis when ``REDIS_URL`` is set.

Bot replicas and web app processes import this package (it needs the ``redis`` package, from
the ``[scale]`` extra). Without ``REDIS_URL`` nothing here is used: each process keeps its own
state in memory, as one process always did.
"""
