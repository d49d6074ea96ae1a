"""CDS Hooks service plumbing: client authentication (JWT) and card feedback."""
