"""One linear training job per model: training set from Feast, fit, evaluate, log and register."""
