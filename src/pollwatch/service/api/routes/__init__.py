"""One router per resource of the JSON API; ``api.main.api_router`` assembles them."""
