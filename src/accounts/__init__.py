"""Accounts: applicants and staff, roles, sessions, sign-in (password and OIDC), guards."""
