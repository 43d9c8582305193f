"""The replay runner and what shows it: switches, calendars, sensors."""
