"""The promises lotse keeps: the worker (callbacks, tickets, message batches), its store, HTTP API, mail and figures."""
