"""AWS support for EC2 clusters: credential export for vagrant-aws, tagged-instance housekeeping."""
