"""Learning plans written back: the recommendation log (what was shown, with the logging policy's propensity),
the plans HR systems record against it (accepted / planned / declined) and the exploration rule.

``exploration`` is pure (no I/O); ``store`` holds the two application-database tables.
"""
