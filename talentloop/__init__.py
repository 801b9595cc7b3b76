"""The ``talentloop`` command line: the composition root that fronts every package.

Only this package imports from training_jobs and serving; the packages themselves import one way
(features <- models <- training_jobs / evaluation / serving).
"""
