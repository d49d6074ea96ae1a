"""FHIR R4 input: Bundles and hook requests, unit conversion, extraction to clinical inputs."""
