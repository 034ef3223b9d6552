"""Phone reminders for citizens who asked for one: a Notifier interface, its HTTP webhook adapter, the sender."""
