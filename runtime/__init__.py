"""The runtime: settings read once (runtime.settings) and what builds each lotse process from them."""
