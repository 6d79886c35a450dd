"""Demo data for a newcomer's first minutes: per tenant, demo staff at each step of a chain, employer clerks,
applicants, cases waiting at each step, a returned one, issued and voided certificates and sample seals, all
made through the real domain services. Above the domain packages; never loaded in production."""
