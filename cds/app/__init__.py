"""The SMART on FHIR work-up app (SMART App Launch 2.x), mounted by the Flask app factory.

``routes`` is the blueprint; ``smart`` the OAuth flow (Authlib); ``sessions`` the server-side
session store; ``iss_policy`` which FHIR servers may launch it; ``workup`` fetches and assesses
the patient in context; ``view`` turns the assessment into the page's view model; ``trends`` and
``svg`` the plots; ``pages`` the HTML (texts in the catalogue, ``app.*``); ``link`` the card's
``smart`` link.
"""
