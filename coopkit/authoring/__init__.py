"""The author's tools: solution regions, generating stubs, public tests and tables from the manifest
(`coopkit dev generate`), the consistency check (`coopkit dev check`) and the student bundle."""
