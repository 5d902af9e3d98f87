"""lotse: call routing and IVR for public-administration service centers, on Asterisk."""

__version__ = "0.1.0"
