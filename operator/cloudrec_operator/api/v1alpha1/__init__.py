"""Version v1alpha1 of the cloudrecording.io API."""
