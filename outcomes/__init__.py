"""The outcome kinds: where lotse leaves a call, each with its IVR step, variables, dialplan and record result."""
