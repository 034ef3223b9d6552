"""Pure layouts: data in, ESC/POS bytes and a preview out. No clock, no device, no network."""
