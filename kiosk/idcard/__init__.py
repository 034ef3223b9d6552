"""The kiosk's second-generation ID card reader (二代证读卡器): the interface, a simulated reader, GA 467."""
