"""Services: every change checks state, writes rows and events in one transaction, publishes after."""
