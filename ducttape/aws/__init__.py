"""EC2 clusters through boto3: settings (ec2.yaml), instances and their user data, the cluster
lifecycle behind `cluster.* --aws`, and reaping of expired instances."""
