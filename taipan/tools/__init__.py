"""Offline tools: ``taipan-check-rdb`` and ``taipan-check-aof`` (redis-check-rdb and
redis-check-aof counterparts)."""
