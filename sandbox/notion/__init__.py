"""The Notion fake: data source schemas and property values, the seeded databases and pages,
its state and queries, and the REST API over them."""
