"""Seals (capture, versions), certificate templates and the PDF renderer."""
