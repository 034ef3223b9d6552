"""The queue server: domain, store, services, HTTP and websocket API."""
