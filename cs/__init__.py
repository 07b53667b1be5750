"""Customer service: the CS console (/cs/) and the CRM API (/api/v1/cs/)."""
