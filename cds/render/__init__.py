"""Cards: the assessment JSON plus the texts in cards/ → CDS Hooks 2.0 card objects."""
