"""Search: query arithmetic (query.py) and the query -> results pipeline (engine.py)."""
