"""Governance services: grants, tags, data filters, masks, guardrails, explain and the doctor.

The decisions they rest on (the policy index kept in step with the store) are the authorization
kernel's, :mod:`lakemesh.authz`."""
