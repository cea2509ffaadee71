"""Hosted web lead forms: ``/f/{clinic_slug}/lead`` and the embeddable snippet."""
