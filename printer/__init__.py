"""Thermal-printer output: pure ESC/POS layouts, transports at the edge, a spooler."""
