"""The web interface's pages, one module per area; `carbonex.service.web` assembles them.

Pages are server-rendered (Jinja2, autoescaped) and enhanced with htmx. Every write goes
through the same code as the REST API (the API's route functions are called with the page's
principal once the form's CSRF token is checked), so the rules, authorization checks, four-eyes
approvals and audit log are the API's. Routes are `async def`: the worker's one ledger
connection is used from the event loop's thread only."""
