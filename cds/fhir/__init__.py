"""FHIR R4 input: loading Bundles and hook requests, unit conversion, extraction to clinical inputs."""
