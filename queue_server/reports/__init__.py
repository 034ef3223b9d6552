"""Reports of a hall's service, computed from its event log: figures, live wall, exports."""
