"""AWS side of AgentWeaver: the only core package that may import boto3 (lazily)."""
