"""Cases: one application moving through a procedure (DESIGN.md §2), its attachments, the review queue and
the exports."""
