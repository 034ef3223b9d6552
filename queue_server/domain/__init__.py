"""Pure queue domain: ticket states, numbering, routing, wait estimation, working days. No I/O, no clock."""
