"""Storage: upload the spool to S3-compatible stores, backup and re-upload."""
