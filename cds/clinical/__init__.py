"""The pure clinical core: scores, stages, trial eligibility and the treatment recommendation.

Nothing here knows about HTTP, Flask, FHIR, the environment or the clock. Inputs are the typed
values of :mod:`cds.clinical.inputs` in canonical units; the assessment date is an argument.
"""
