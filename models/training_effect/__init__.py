"""Training effect: which courses lift the next competency rating and the next review, estimated from who
completed them against comparable colleagues who did not (doubly robust difference-in-differences)."""
