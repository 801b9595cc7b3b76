"""Team diagnosis (团队诊断 → 培训需求): rules from the workspace's ``training_needs.yaml``
(:mod:`models.training_needs.rules`) evaluated at a scoring month into training-need findings per unit and skill
with the courses that fit the whole group (:mod:`models.training_needs.diagnose`), stored in the application
database (:mod:`models.training_needs.store`) and sent to the HR suite by a signed, retried, logged webhook
(:mod:`models.training_needs.webhook`). See docs/training-needs.md."""
