# Frameworks, steps, placements and APDR support plans arrive with the graduated-response issue.
