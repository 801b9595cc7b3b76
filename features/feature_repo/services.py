"""The names of the feature services, declared once (no feast import: models and jobs import these freely).

Each model version reads one service; a job passes its service to the model it trains, and the model keeps
it (``feature_service_``) so that serving reads the same service. ``definitions`` declares the services
under these names; ``features.store.feature_columns(name)`` gives a service's ordered input columns.
"""

from __future__ import annotations

ATTRITION_SERVICE = "attrition_v1"
COURSE_RANKER_SERVICE = "course_ranker_v1"
COURSE_RANKER_CONTEXT_SERVICE = "course_ranker_context_v1"  # skill lists the ranker's reasons name
SKILL_DEMAND_SERVICE = "skill_demand_v1"
EMPLOYEE_CONTEXT_SERVICE = "employee_context_v1"  # lookup keys (org unit, job) for access checks
TALENT_POOL_SERVICE = "talent_pool_v1"  # pool membership and next-job readiness (docs/talent-pool.md)
POTENTIAL_SERVICE = "potential_v1"  # the high-potential model's inputs

FEATURE_SERVICES = (ATTRITION_SERVICE, COURSE_RANKER_SERVICE, SKILL_DEMAND_SERVICE, EMPLOYEE_CONTEXT_SERVICE,
                    COURSE_RANKER_CONTEXT_SERVICE, TALENT_POOL_SERVICE, POTENTIAL_SERVICE)
