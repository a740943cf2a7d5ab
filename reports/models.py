# Report requests and their PDFs arrive with the reports issue.
