"""Jobs: a tenant's source connector, target, contract and state backend, run as one pipe."""
