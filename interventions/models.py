# Provisions, groups, enrolments and sessions arrive with the interventions issue.
