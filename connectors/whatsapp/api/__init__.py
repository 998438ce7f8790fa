"""What every route of the gateway's HTTP API (`/webhooks/whatsapp/api/v1/`) shares: token checks and roles
(`auth`), the error shape (`responses`), the security headers (`headers`), `GET /me` (`session`), the
automations' request limits (`limits`) and the OpenAPI 3.1 description of it all (`openapi`).

The routes themselves live with what they serve (`agents.routes`, `automations.routes`), and
`connectors.whatsapp.routes` registers them all. This package imports no route module, so the packages whose
routes use it sit above it; the limits live here so that the automations' reader and the description share
them.
"""

__all__ = ["auth", "headers", "limits", "openapi", "responses", "session"]
