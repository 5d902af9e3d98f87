"""Asterisk config and prompts rendered from the YAML: dialplan, queues, agents' endpoints and codes, prompts."""
