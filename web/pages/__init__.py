"""The web app's pages: one module per page, its endpoints plain async functions of the Request."""
