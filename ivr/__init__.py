"""IVR: the call flow over AGI (sans-IO session, FastAGI and classic adapters) and the generated dialplan."""
