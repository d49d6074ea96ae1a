"""What an integrator uses besides the service: fixtures into a FHIR server, fixtures into hook
requests (``cds load-fixtures``, ``cds hook-request``)."""
