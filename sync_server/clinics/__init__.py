"""Clinics: the tenants, their staff, their enrolled workstations (devices) and enrollment codes."""
