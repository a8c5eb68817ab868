"""Peewee tables and query functions. Every function takes the tenant first.

db.py (connection, migrations), flows.py, executions.py, logs.py, kv.py, triggers.py.
"""
