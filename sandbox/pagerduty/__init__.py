"""The PagerDuty fake: the seeded incidents, its state, and the REST API over them."""
