"""Classic AGI scripts: the IVR flow run by Asterisk as one process per call (pyst2)."""
