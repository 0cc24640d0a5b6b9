"""The NetSuite sandbox: an HTTP server that speaks NetSuite's REST/SuiteQL wire protocol over SQLite."""
