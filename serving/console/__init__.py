"""The HR partner console: server-rendered pages under ``/console`` in the serving app.

Sign in with an API key (a server-side session, :mod:`serving.console.sessions`), then the alert queue
(:mod:`.queue`), an alert's detail with its review form (:mod:`.detail`), the unit overview and the model panel
(:mod:`.overview`), in English or Chinese (:mod:`.i18n`). Same roles and org-unit scope as the API; every
view and review is written to the audit log. Handlers (:mod:`.web`) stay thin; the data is assembled in the
modules above; templates and static files ship inside this package.
"""
