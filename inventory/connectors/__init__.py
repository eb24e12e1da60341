"""Provider connectors: pure code that turns a provider's API into plain records.

A connector never touches the database; the reconcile service turns its records into rows.
"""
