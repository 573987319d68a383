"""The Jira Cloud fake: its vocabulary (fields, families, options, errors), its seeded issues,
its state and JQL, and the REST API over them."""
