"""Tenants (provinces/regions), their org trees, presets and authority rules."""
