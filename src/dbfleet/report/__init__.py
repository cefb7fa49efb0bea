"""Reports CI systems and people read: JUnit XML, SARIF, Markdown, HTML."""
