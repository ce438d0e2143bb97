"""Development tools, off the runtime path: the synthetic extract generator and its XLSX writer. Only `bcf generate`
and `bcf demo` import them (lazily), and the tests and scripts."""
