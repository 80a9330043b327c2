"""Pure planning: (Spec, Observed) -> Plan. No I/O, no clock, no randomness in this package."""
