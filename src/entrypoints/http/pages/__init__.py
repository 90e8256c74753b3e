"""HTML pages, one module per area; each exposes `ROUTES`. Their layout context comes from
`entrypoints/http/page_context.py`."""
