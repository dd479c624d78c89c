"""High availability: a primary/backup pair that hands the SIP port over
by itself and keeps the backup's call memory in step with the primary's."""
