"""A small suite written against ducktape's API (like kafkatest): services in their own package
with templates, tests importing ``ducktape.*``. ducttape's runner runs it through the compat
layer (tests/compat/test_ducktape_compat.py)."""
