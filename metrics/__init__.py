"""Metrics: call records from AMI events, their storage, KPIs and reports."""
