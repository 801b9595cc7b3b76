"""Default values shared by every metric, declared once.

Metric functions take these as keyword defaults; callers override them per call, never by editing here.
"""

# Column names (long frames, Microsoft-Recommenders style keyword defaults).
DEFAULT_USER_COL = "user_id"
DEFAULT_ITEM_COL = "item_id"
DEFAULT_SCORE_COL = "score"
DEFAULT_RELEVANCE_COL = "relevance"
DEFAULT_GAIN_COL = "gain"
DEFAULT_FEATURE_COL = "skill_id"
DEFAULT_SERIES_COL = "series_id"
DEFAULT_TIME_COL = "month"
DEFAULT_TARGET_COL = "y"
DEFAULT_PREDICTION_COL = "y_hat"

# Classification (attrition risk).
DEFAULT_ECE_BINS = 10
DEFAULT_ECE_STRATEGY = "uniform"
DEFAULT_TOP_FRACTIONS = (0.05, 0.10)

# Ranking (course recommendations).
DEFAULT_K = 10
DEFAULT_RELEVANCE_THRESHOLD = 1.0

# Forecasting (skill demand).
DEFAULT_QUANTILES = (0.1, 0.5, 0.9)
DEFAULT_SEASON = 1

# Fairness audit.
FOUR_FIFTHS_THRESHOLD = 0.8
SMALL_GROUP_SHARE = 0.02
MIN_GROUP_SIZE = 30  # fewer people than this: a group's rate is too noisy to gate (or to be the reference)
# fewer expected selections (or non-selections) than this at the overall selection rate: one person more or less
# moves the group's impact ratio by more than 0.1, so a four-fifths ratio cannot be told from noise
MIN_EXPECTED_SELECTED = 10
OUTCOME_RATE_TOLERANCE = 0.1
SIGNIFICANCE_ALPHA = 0.05  # a shortfall under four fifths fails only when Fisher's exact test finds it at this level
CALIBRATION_RATIO_TOLERANCE = 0.2  # observed positives within ±20% of the expected ones count as calibrated
CALIBRATION_Z = 1.96  # … as does a difference that is not significant at the 5% level
DEFAULT_ASSOCIATION_BINS = 5

# Bootstrap.
DEFAULT_N_BOOT = 200
DEFAULT_ALPHA = 0.05
DEFAULT_SEED = 0
MAX_SKIPPED_SHARE = 0.5
