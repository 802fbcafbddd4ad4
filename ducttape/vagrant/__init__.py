"""Vagrant clusters: the node image, the machines' lifecycle through python-vagrant, and the
cluster file that the `vagrant` cluster backend reads."""
