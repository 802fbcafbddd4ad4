"""Product services: Kafka, ZooKeeper, the REST bridge, and the tools that measure them.

They build on the core (``ducttape.services``, ``ducttape.build``); nothing in the core imports
them. Configuration files come from the Jinja2 templates in ``templates/``.
"""
