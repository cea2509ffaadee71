"""The patient-facing web pages' common ground (DESIGN.md, "Web pages").

Every public or client page (consent forms, online booking, the patient portal) is built on
this package, so they look, speak and protect themselves the same way:

- :mod:`.pages`: a Jinja2 environment per context whose templates extend ``web/base.html``
  (mobile-first layout, the clinic's name, logo and colour, skip link, landmarks), and
  :func:`.pages.respond`, which sends a rendered page with the security headers;
- :mod:`.i18n`: English and Spanish texts and the language a visitor reads;
- :mod:`.security`: the response headers (CSP with a per-response nonce, frame-ancestors,
  HSTS over TLS, no-store on private pages) and CSRF tokens for every form;
- :mod:`.branding`: the clinic's display name, colour and logo from its synced settings;
- :mod:`.endpoints`: the shared static files (``/assets/...``) and clinic logos.
"""
