"""kopf glue: the handlers that run the reconcile and apply its actions."""
