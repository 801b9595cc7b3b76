"""Metrics, backtests, oracle scores from the simulator's truth, fairness audits and comparisons."""
