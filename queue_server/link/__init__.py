"""Link up (联动上报): a township ships its hall's event log to its county, which keeps a copy by (hall, seq)."""
