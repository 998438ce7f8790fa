"""What every route of the gateway's HTTP API (`/webhooks/whatsapp/api/v1/`) shares: token checks and roles
(`auth`), the error shape (`responses`), the security headers (`headers`), `GET /me` (`session`) and the
OpenAPI 3.1 description (`openapi`).

The routes themselves live with what they serve (`agents.routes`, `automations.routes`), and
`connectors.whatsapp.routes` registers them all. This package imports no route module, so the packages whose
routes use it sit above it.
"""

__all__ = ["auth", "headers", "openapi", "responses", "session"]
